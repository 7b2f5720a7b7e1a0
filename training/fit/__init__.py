"""Fitting: the train command, its epoch loop, DDP plumbing and warm starts."""
