"""Errors that end a run with one clear line instead of a traceback."""


class WdbenchError(Exception):
    """A problem the user can fix: bad configuration, missing or corrupt data."""


class ConfigError(WdbenchError):
    def __init__(self, key: str, value, allowed: str):
        super().__init__(f"{key}={value!r} is invalid: allowed {allowed}")
        self.key = key


class DataError(WdbenchError):
    pass
