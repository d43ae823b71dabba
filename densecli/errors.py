"""densecli's exception types for user mistakes: the CLI prints them as one line, exit 2."""


class DensecliError(Exception):
    """A mistake the user can fix: a bad config value, a missing or broken file."""


class ConfigError(DensecliError):
    """A config key holds a value densecli cannot use."""

    def __init__(self, key: str, value: object, allowed: str, fix: str = "") -> None:
        self.key, self.value, self.allowed, self.fix = key, value, allowed, fix
        message = f"{key}: got {value!r}; {allowed}"
        if fix:
            message += f". {fix[0].upper()}{fix[1:]}"
        super().__init__(message)


class DataError(DensecliError):
    """The dataset on disk cannot be used as it is (missing, unreadable, mismatched files)."""


class CheckpointError(DensecliError):
    """A run directory or checkpoint cannot be resumed or loaded."""
