"""Helpers shared by the CSV readers and writers of :mod:`gaitmon.io` (private).

Every reader reports bad input as :class:`gaitmon.errors.InputError` with ``where="line N"``, where
``N`` counts physical lines of the file starting at 1 for the header line.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from gaitmon.errors import InputError

#: Longest piece of offending text quoted in an error message.
_QUOTE_LIMIT = 40


def where(line: int) -> str:
    """The ``where`` part of an :class:`InputError` for a 1-based file line number."""
    return f"line {line}"


def quote(text: str) -> str:
    """Quote a (possibly long or odd) piece of input text for an error message."""
    if len(text) > _QUOTE_LIMIT:
        text = text[:_QUOTE_LIMIT] + "..."
    return repr(text)


def names_list(names: Iterable[str]) -> str:
    """``'a', 'b', 'c'`` for error messages."""
    return ", ".join(repr(n) for n in names)


def open_binary(path: str | Path) -> BinaryIO:
    """Open ``path`` for binary reading, turning OS errors into one-line :class:`InputError`."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, None, "is a directory, not a file") from None
    except PermissionError:
        raise InputError(path, None, "permission denied") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot open file: {exc.strerror or exc}") from None


def open_text_for_writing(path: str | Path):
    """Open ``path`` for writing text (UTF-8, ``\\n`` line ends); OS errors become InputError."""
    return _open_for_writing(path, "w", encoding="utf-8", newline="")


def open_binary_for_writing(path: str | Path):
    """Open ``path`` for writing bytes; OS errors become InputError."""
    return _open_for_writing(path, "wb")


def _open_for_writing(path: str | Path, mode: str, **kwargs):
    try:
        return open(path, mode, **kwargs)
    except IsADirectoryError:
        raise InputError(path, None, "is a directory, cannot write a file there") from None
    except PermissionError:
        raise InputError(path, None, "permission denied, cannot write the file") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot write file: {exc.strerror or exc}") from None


def read_text_lines(path: str | Path) -> list[str]:
    """Whole file as a list of lines (UTF-8, optional BOM, line ends removed).

    For the small tables only (events, summaries); the IMU reader streams instead.
    """
    with open_binary(path) as f:
        try:
            data = f.read()
        except OSError as exc:
            raise InputError(path, None, f"cannot read file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(path, where(line), "not valid UTF-8 text") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def split_csv_line(path: str | Path, line: str, line_no: int) -> list[str]:
    """Split one line with the csv module's rules (quotes allowed); errors become InputError."""
    try:
        return next(csv.reader([line], strict=True), [])
    except csv.Error as exc:
        raise InputError(path, where(line_no), f"cannot parse CSV: {exc}") from None


def parse_header(
    path: str | Path,
    fields: Sequence[str],
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> dict[str, int]:
    """Map the known column names to their position in the header row.

    Names are matched after stripping white space, case-insensitively. Columns that are neither
    required nor optional are ignored. Raises InputError (``line 1``) for missing or repeated
    columns, and says so when line 1 looks like data rather than a header.
    """
    names = [f.strip().lower() for f in fields]
    known = set(required) | set(optional)
    index: dict[str, int] = {}
    for pos, name in enumerate(names):
        if name in known:
            if name in index:
                raise InputError(path, where(1), f"column {name!r} appears more than once in the header")
            index[name] = pos
    missing = [name for name in required if name not in index]
    if missing:
        expected = ", ".join(required)
        if not index and _looks_like_data(names):
            problem = (
                f"no header line: line 1 looks like data ({quote(','.join(fields))}); "
                f"the first line must name the columns {expected}"
            )
        else:
            problem = (
                f"header is missing column(s) {names_list(missing)}; "
                f"expected the columns {expected} (any order)"
            )
        raise InputError(path, where(1), problem)
    return index


def _looks_like_data(names: Sequence[str]) -> bool:
    return any(parse_float(n) is not None for n in names) or any(n in ("left", "right") for n in names)


def parse_float(text: str) -> float | None:
    """``float(text)`` or ``None`` when it is not a number (NaN/inf *are* numbers here)."""
    try:
        return float(text)
    except ValueError:
        return None


def number_problem(column: str, text: str) -> tuple[float | None, str | None]:
    """Parse a finite float; return ``(value, None)`` or ``(None, problem)``."""
    stripped = text.strip()
    if not stripped:
        return None, f"column {column!r} is empty"
    value = parse_float(stripped)
    if value is None:
        return None, f"column {column!r}: {quote(stripped)} is not a number"
    if not math.isfinite(value):
        return None, (
            f"column {column!r}: {quote(stripped)} is not a finite number "
            "(NaN and infinity are not allowed)"
        )
    return value, None


def choice_problem(column: str, text: str, allowed: Iterable[str], what: str) -> tuple[str | None, str | None]:
    """Check that ``text`` (stripped) is one of ``allowed``; return ``(value, None)`` or ``(None, problem)``.

    ``what`` names the kind of value with its article ("a side", "an event").
    """
    value = text.strip()
    if value in allowed:
        return value, None
    return None, f"column {column!r}: {quote(text)} is not {what} (allowed: {names_list(allowed)})"


def field_count_problem(expected: int, found: int, last_line: bool) -> str:
    """Message for a line with the wrong number of fields."""
    problem = f"expected {expected} fields as in the header, found {found}"
    if found < expected and last_line:
        problem += " (the last line looks truncated)"
    return problem


def format_float(value: float, decimals: int = 6) -> str:
    """Fixed-point text with ``decimals`` decimals; NaN becomes an empty field."""
    if value != value:  # NaN
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return "%.*f" % (decimals, value)  # printf-style: the same text as format(), in a third of the time
