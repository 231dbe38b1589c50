"""The SLURM launcher's noise on a cluster without an accounting database. submitit asks
`sacct` for its jobs' states on every poll; without accounting sacct always fails and
submitit warns each time, though the jobs' results still arrive (it reads them from its
folder). The first warning says so; the repeats say nothing new."""

import logging

from hydra.experimental.callback import Callback

REPEATED = "Bypassing sacct error"


class FirstSacctWarning(logging.Filter):
    def __init__(self):
        super().__init__()
        self.seen = False

    def filter(self, record: logging.LogRecord) -> bool:
        if REPEATED not in record.getMessage():
            return True
        first, self.seen = not self.seen, True
        return first


class QuietSacct(Callback):
    """Runs in the process that submits the sweep, the one that polls."""

    def on_multirun_start(self, config, **kwargs) -> None:
        logger = logging.getLogger("submitit")
        if not any(isinstance(f, FirstSacctWarning) for f in logger.filters):
            logger.addFilter(FirstSacctWarning())
