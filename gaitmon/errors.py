"""Errors that reach the user as one clear line (exit status 2), never as a traceback."""

from __future__ import annotations

import sys
from pathlib import Path


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
    """One line on stderr, ``gaitmon: message`` (problems that do not stop the run)."""
    print(f"gaitmon: {message}", file=sys.stderr, flush=True)
