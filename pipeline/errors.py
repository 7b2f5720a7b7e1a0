"""Errors that a command reports as one sentence and exit code 2."""


class UserError(Exception):
    """Bad arguments or bad data: shown to the user without a traceback."""


class DataError(UserError):
    """A data folder is missing, empty or not in the expected layout."""


class CheckpointError(UserError):
    """A checkpoint cannot be read or does not match what was asked for."""
