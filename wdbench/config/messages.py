"""One clear line for every error the user can fix, whoever raised it (wdbench, Hydra,
OmegaConf, the filesystem): what was wrong, the bad value, and what is allowed."""

import difflib

from hydra.errors import MissingConfigException, OverrideParseException
from omegaconf import DictConfig
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, InterpolationResolutionError

from wdbench.errors import WdbenchError


def one_line(err: BaseException, argv: list[str] | None = None) -> str:
    if isinstance(err, WdbenchError):  # already one line, written for the user
        return str(err)
    cause = err.__cause__ or (None if err.__suppress_context__ else err.__context__)
    inner = err
    while isinstance(inner, InterpolationResolutionError):  # a resolver's own error, as written
        inner = inner.__context__
        if isinstance(inner, WdbenchError):
            return str(inner)
    if isinstance(err, MissingConfigException) and err.options is not None:
        group, _, option = (err.missing_cfg_file or "").rpartition("/")
        return f"{group}={option!r} is invalid: allowed {', '.join(err.options)}"
    if isinstance(err, OverrideParseException):
        return f"cannot parse the override {err.override!r}: {first_line(err.message)}"
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and cause.full_key:
        return unknown_key(cause, argv or [])
    if isinstance(err, OSError) or isinstance(cause, OSError):
        failed = err if isinstance(err, OSError) else cause
        where = f" {failed.filename}" if failed.filename else ""
        return f"cannot use{where}: {failed.strerror or failed}"
    return " ".join(meaningful_lines(str(err)))


def unknown_key(cause, argv: list[str]) -> str:
    """`model.hiden=3`: name the key, its value on the command line and the keys that exist."""
    key = cause.full_key
    value = next((a.split("=", 1)[1] for a in argv if a.split("=", 1)[0] == key), "...")
    known = []
    if isinstance(cause.parent_node, DictConfig):
        known = [k for k in cause.parent_node if not str(k).startswith("_") and k != "hydra"]
    allowed = f"allowed keys: {', '.join(map(str, known))}" if known else "no such key"
    nearest = nearest_key(key, known)
    if nearest:  # a misspelling: the fix first; adding the key with `+` would hide the typo
        return f"unknown key {key}={value}: did you mean {nearest}={value}? {allowed}"
    return f"unknown key {key}={value}: {allowed} (to add a new key, write +{key}={value})"


def nearest_key(full_key: str, known) -> str | None:
    """`regularizer.strenght` -> `regularizer.strength`: the closest existing sibling key, or
    None when none is close enough to be a misspelling."""
    prefix, _, key = full_key.rpartition(".")
    match = difflib.get_close_matches(key, [str(k) for k in known], n=1, cutoff=0.7)
    if not match:
        return None
    return f"{prefix}.{match[0]}" if prefix else match[0]


def meaningful_lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    cut = next((i for i, line in enumerate(lines) if line.startswith("Config search path")),
               len(lines))
    return lines[:cut]


def first_line(text: str) -> str:
    lines = meaningful_lines(text)
    return lines[0] if lines else text
