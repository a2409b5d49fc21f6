"""Errors that reach the user as one clear line (exit status 2), never as a traceback."""

from __future__ import annotations

import logging
from pathlib import Path

#: gaitmon's diagnostics: its modules log to children of this logger (``logging.getLogger(__name__)``);
#: the command line shows them on stderr as ``gaitmon: …`` lines, more or fewer with ``-v``/``-q``.
log = logging.getLogger("gaitmon")


class InputError(Exception):
    """Bad input: names the file and where in it the problem is.

    ``str(error)`` is the one line the CLI prints, e.g.
    ``data.csv: row 17: column 'gx': 'abc' is not a number``.
    """

    def __init__(self, path: str | Path, where: str | None, problem: str):
        self.path = str(path)
        self.where = where
        self.problem = problem
        location = f"{self.path}: {where}" if where else self.path
        super().__init__(f"{location}: {problem}")


def warn(message: str) -> None:
    """A problem that does not stop the run: a warning of the ``gaitmon`` logger (one line on stderr,
    ``gaitmon: message``, from the command line)."""
    log.warning(message)
