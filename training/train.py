"""`python -m training.train`: runs training.fit.train.main."""

import sys

from training.fit.train import main

if __name__ == "__main__":
    sys.exit(main())
