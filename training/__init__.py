"""Train, evaluate and run real/fake face image classifiers."""

__version__ = "0.1.0"
