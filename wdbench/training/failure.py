"""How a run that ends in an error says so: one line on stderr and a summary that says
"failed" (read by the sweep's table, its exit status and a re-run of the sweep). An error the
user can fix gets its own message; anything else is a bug, logged with its traceback."""

import logging
import sys
from pathlib import Path

from hydra.errors import HydraException

from wdbench.config.messages import one_line
from wdbench.errors import WdbenchError
from wdbench.outputs.files import RunDir

log = logging.getLogger("wdbench")
KNOWN = (WdbenchError, HydraException, OSError)  # bad values, overrides, unwritable dirs


def is_known(err: Exception) -> bool:
    return isinstance(err, KNOWN)


def error_line(err: Exception) -> str:
    if is_known(err):
        return one_line(err)
    log.exception("unexpected error")  # called while handling `err`: its traceback
    return f"unexpected {type(err).__name__}: {one_line(err)} (traceback in wdbench.log)"


def failed_summary(line: str, overrides: list[str]) -> dict:
    return {"status": "failed", "error": line, "overrides": overrides}


def report_failure(line: str, run_dir: Path, summary: dict | None) -> None:
    """Write the failed summary (when there is one) and print the line."""
    if summary is not None:
        try:
            RunDir(run_dir).write_summary(summary)
        except OSError:
            pass  # the directory itself is what failed; the line says so
    print(f"error: {line}", file=sys.stderr)
