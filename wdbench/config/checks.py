"""The value checks shared by every part that reads a setting: a bad value is a ConfigError
naming the key and what is allowed."""

from numbers import Real

from wdbench.errors import ConfigError


def is_number(value) -> bool:
    """An int or float (numpy's too), not a bool (YAML's true would pass as 1)."""
    return isinstance(value, Real) and not isinstance(value, bool)


def is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_count(value) -> bool:
    return is_integer(value) and value >= 1


def check_fraction(key: str, value) -> float:
    if not is_number(value) or not 0 <= value <= 1:
        raise ConfigError(key, value, "a number in [0, 1]")
    return float(value)


def check_count(key: str, value, low: int, high: int) -> int:
    if not is_integer(value) or not low <= value <= high:
        raise ConfigError(key, value, f"an integer in [{low}, {high}]")
    return value
