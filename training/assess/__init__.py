"""Assessment: evaluation, metrics and calibration, per-source tables, sweeps, the cue check, plots, reports and the
no-regression comparison."""
