"""Small CSV tables: gait event lists and generic result tables.

These files are small (thousands of rows), so they are read whole and parsed line by line with the
:mod:`csv` module. Bad input raises :class:`gaitmon.errors.InputError` with ``where="line N"``,
where ``N`` counts the lines of the file with the header as line 1;
:func:`read_events_csv_recovering` skips bad lines instead.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gaitmon.consts import EVENT_KINDS, EVENT_RULES, SIDES
from gaitmon.errors import InputError
from gaitmon.events import GaitEvent
from gaitmon.io._common import (
    choice_problem,
    field_count_problem,
    format_float,
    number_problem,
    open_binary,
    open_text_for_writing,
    parse_header,
    parse_float,
    quote,
    read_text_lines,
    split_csv_line,
    where,
)
from gaitmon.io.imu_csv import Recovery

__all__ = [
    "EVENT_COLUMNS",
    "read_events_csv",
    "read_events_csv_recovering",
    "read_table_csv",
    "write_events_csv",
    "write_table_csv",
]

#: Header written by :func:`write_events_csv`; ``value`` and ``rule`` are optional when reading.
EVENT_COLUMNS: tuple[str, ...] = ("t_s", "side", "event", "value", "rule")


def _event_sort_key(e: GaitEvent) -> tuple[float, int, int]:
    side = SIDES.index(e.side) if e.side in SIDES else len(SIDES)
    kind = EVENT_KINDS.index(e.kind) if e.kind in EVENT_KINDS else len(EVENT_KINDS)
    return (e.t, side, kind)


def write_events_csv(path: str | Path, events: Iterable[GaitEvent]) -> None:
    """Write gait events as ``t_s,side,event,value,rule``, sorted by time.

    Parameters
    ----------
    path : str or Path
        Output file (overwritten).
    events : iterable of GaitEvent
        Written sorted by time (then side ``left`` before ``right``, then ``TO, MSW, IC``).
        ``t`` with 6 decimals (s); ``value`` (rad/s) with 6 significant digits, empty when NaN;
        ``rule``: which rule of the step core found the event (``gyro``/``impact``), may be empty.

    Raises
    ------
    ValueError
        An event with a non-finite time, or a side/kind that :func:`read_events_csv` would reject.
    gaitmon.errors.InputError
        The file cannot be written.
    """
    rows = sorted(events, key=_event_sort_key)
    for e in rows:
        if not math.isfinite(e.t):
            raise ValueError(f"event time must be finite: {e!r}")
        if e.side not in SIDES or e.kind not in EVENT_KINDS or (e.rule and e.rule not in EVENT_RULES):
            raise ValueError(f"unknown side, event kind or rule: {e!r}")
    lines = [",".join(EVENT_COLUMNS)]
    for e in rows:
        value = "" if e.value != e.value else "%.6g" % e.value
        lines.append(f"{e.t:.6f},{e.side},{e.kind},{value},{e.rule}")
    _write_text(path, "\n".join(lines) + "\n")


def read_events_csv(path: str | Path) -> list[GaitEvent]:
    """Read a gait event list written by :func:`write_events_csv` or a reference annotation.

    Accepts the columns ``t_s, side, event`` and optional ``value`` and ``rule`` (any order, names matched
    case-insensitively, other columns ignored), e.g. the 3-column reference files of the
    ``ipol_foot_walk`` dataset. Rows need not be sorted.

    Parameters
    ----------
    path : str or Path
        CSV file.

    Returns
    -------
    list of GaitEvent
        Sorted by time (then side, then kind). ``value`` is NaN when absent or empty.

    Raises
    ------
    gaitmon.errors.InputError
        Missing/empty file, missing columns, wrong number of fields, time not a finite number,
        side not ``left``/``right``, event not one of ``TO, MSW, IC``, value not a number, the same
        event (time, side, kind) twice. ``where`` is ``"line N"`` (header = line 1).
    """
    return _read_events(path, None)


def read_events_csv_recovering(path: str | Path) -> tuple[list[GaitEvent], Recovery]:
    """Read a gait event list, skipping bad lines instead of stopping at the first one.

    Every data line that :func:`read_events_csv` would reject on its own account (wrong number of
    fields, a bad time (s), side, event or value, a blank line followed by data, text that is not
    UTF-8, an event already on an earlier line) is skipped and recorded; the events returned are
    exactly what :func:`read_events_csv` returns for the file with the skipped lines deleted.

    Parameters
    ----------
    path : str or Path
        CSV file, as for :func:`read_events_csv`.

    Returns
    -------
    events : list of GaitEvent
        As from :func:`read_events_csv` (possibly empty).
    recovery : Recovery
        The lines skipped, and why; ``recovery.message()`` is one line for the user.

    Raises
    ------
    gaitmon.errors.InputError
        For problems with the file as a whole: missing or empty file, missing or broken header.
    """
    skipped: list[tuple[int, str]] = []
    events = _read_events(path, skipped)
    recovery = Recovery(str(path), rows_kept=len(events))
    for line, problem in sorted(skipped):
        recovery._record(line, problem)
    return events, recovery


def _read_events(path: str | Path, skipped: list[tuple[int, str]] | None) -> list[GaitEvent]:
    """The events of a file; ``skipped`` as for :func:`_read_rows`."""
    header, rows = _read_rows(path, skipped)
    index = parse_header(path, header, EVENT_COLUMNS[:3], optional=EVENT_COLUMNS[3:])
    names = [h.strip() for h in header]
    events: list[GaitEvent] = []
    seen: dict[tuple[float, str, str], int] = {}
    for line_no, fields in rows:
        try:
            event = _parse_event(path, line_no, fields, index, names)
            key = (event.t, event.side, event.kind)
            if key in seen:
                raise InputError(
                    path,
                    where(line_no),
                    f"duplicate event: {event.kind} of side {event.side!r} at t_s {event.t!r} "
                    f"is already on line {seen[key]}",
                )
        except InputError as exc:
            if skipped is None:
                raise
            skipped.append((line_no, exc.problem))
            continue
        seen[key] = line_no
        events.append(event)
    events.sort(key=_event_sort_key)
    return events


def _parse_event(
    path: str | Path, line_no: int, fields: list[str], index: dict[str, int], names: list[str]
) -> GaitEvent:
    """One event from the fields of a line; InputError when a field is bad."""
    t, problem = number_problem(names[index["t_s"]], fields[index["t_s"]])
    if problem is not None:
        raise InputError(path, where(line_no), problem)
    side, problem = choice_problem(names[index["side"]], fields[index["side"]], SIDES, "a side")
    if problem is not None:
        raise InputError(path, where(line_no), problem)
    kind, problem = choice_problem(names[index["event"]], fields[index["event"]], EVENT_KINDS, "an event")
    if problem is not None:
        raise InputError(path, where(line_no), problem)
    value = math.nan
    if "value" in index:
        text = fields[index["value"]].strip()
        if text:
            parsed = parse_float(text)
            if parsed is None:
                raise InputError(
                    path,
                    where(line_no),
                    f"column {names[index['value']]!r}: {quote(text)} is not a number",
                )
            value = parsed
    rule = ""
    if "rule" in index and fields[index["rule"]].strip():
        rule, problem = choice_problem(names[index["rule"]], fields[index["rule"]], EVENT_RULES, "a rule")
        if problem is not None:
            raise InputError(path, where(line_no), problem)
    return GaitEvent(t=t, side=side, kind=kind, value=value, rule=rule)


def write_table_csv(path: str | Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Write a small table of dicts as CSV.

    Parameters
    ----------
    path : str or Path
        Output file (overwritten).
    rows : sequence of dict
        One dict per row. Keys not in ``columns`` are ignored; missing keys give empty fields.
    columns : sequence of str
        Header, in order.

    Notes
    -----
    Floats are written with 6 decimals; NaN and ``None`` as an empty field; infinities as
    ``inf``/``-inf``; integers and booleans as ``str()``; other values as ``str()`` (quoted by the
    csv module when needed).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(columns))
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    _write_text(path, buf.getvalue())


def _cell(value: Any) -> str:
    if type(value) is float:  # most cells: the checks below in the order of their rarity
        return format_float(value)
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format_float(float(value))
    return str(value)


def read_table_csv(path: str | Path) -> list[dict[str, Any]]:
    """Read a small CSV table (header line + rows) into a list of dicts.

    Each field that parses as a number becomes a ``float``; an empty field becomes NaN; anything
    else stays a ``str`` (white space stripped).

    Raises
    ------
    gaitmon.errors.InputError
        Missing/empty file, empty or repeated column names, wrong number of fields
        (``where="line N"``, header = line 1).
    """
    header, rows = _read_rows(path)
    names = [h.strip() for h in header]
    seen: set[str] = set()
    for pos, name in enumerate(names):
        if not name:
            raise InputError(path, where(1), f"header field {pos + 1} is empty (every column needs a name)")
        if name in seen:
            raise InputError(path, where(1), f"column {name!r} appears more than once in the header")
        seen.add(name)
    out: list[dict[str, Any]] = []
    for _, fields in rows:
        record: dict[str, Any] = {}
        for name, text in zip(names, fields):
            text = text.strip()
            if not text:
                record[name] = math.nan
            else:
                number = parse_float(text)
                record[name] = text if number is None else number
        out.append(record)
    return out


def _read_rows(
    path: str | Path, skipped: list[tuple[int, str]] | None = None
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header fields and ``(line number, fields)`` of each data line; checks the field counts.

    Blank lines are skipped only at the end of the file. With ``skipped=None`` the first bad line
    raises InputError; otherwise each bad data line is left out and ``(line number, problem)``
    appended to ``skipped`` (problems with the header still raise).
    """
    lines = read_text_lines(path) if skipped is None else _read_text_lines_escaped(path)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise InputError(path, None, "file is empty (expected a header line)")
    if not lines[0].strip():
        raise InputError(path, where(1), "header line is empty")
    header = _split(path, lines[0], 1)
    rows: list[tuple[int, list[str]]] = []
    n = len(header)
    for i, line in enumerate(lines[1:], start=2):
        try:
            if not line.strip():
                raise InputError(
                    path, where(i), "empty line (blank lines are only allowed at the end of the file)"
                )
            fields = _split(path, line, i)
            if len(fields) != n:
                raise InputError(path, where(i), field_count_problem(n, len(fields), i == len(lines)))
        except InputError as exc:
            if skipped is None:
                raise
            skipped.append((i, exc.problem))
            continue
        rows.append((i, fields))
    return header, rows


def _read_text_lines_escaped(path: str | Path) -> list[str]:
    """Like :func:`read_text_lines`, but bytes that are not UTF-8 become lone surrogates.

    :func:`_split` then rejects just the lines that hold them.
    """
    with open_binary(path) as f:
        try:
            data = f.read()
        except OSError as exc:
            raise InputError(path, None, f"cannot read file: {exc.strerror or exc}") from None
    lines = data.decode("utf-8-sig", errors="surrogateescape").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _split(path: str | Path, line: str, line_no: int) -> list[str]:
    """:func:`split_csv_line`, after checking that ``line`` holds no undecodable bytes."""
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(path, where(line_no), "not valid UTF-8 text") from None
    return split_csv_line(path, line, line_no)


def _write_text(path: str | Path, text: str) -> None:
    f = open_text_for_writing(path)
    try:
        with f:
            f.write(text)
    except OSError as exc:
        raise InputError(path, None, f"cannot write file: {exc.strerror or exc}") from None
