"""Train, evaluate and package real/fake face image classifiers, one room per concern (training/README.md).

data/    sources and mixes, the crop cache, leak-free splits (Validation held out by group), SBI, the shared
         degradation chain, synthetic sets
fit/     train, its epoch loop (engine), DDP plumbing (distributed), warm starts
assess/  evaluate, metrics and calibration, per-source tables, leave-out sweeps, the cue check, plots, reports, the
         candidate-vs-default comparison
ship/    package (threshold, temperature), ONNX export, ImageNet weights (fetch_weights)

Each command keeps its name, `python -m training.<command>`, through a two-line entry module here: train, evaluate,
sweep, cues, package, export_onnx, fetch_weights, crops, synthetic; predict and scan live in `commands/`.
"""

__version__ = "0.1.0"
