"""Reading a reference system's export: what the athlete's own lab or club measured, step by step.

``gaitmon validate`` compares gaitmon with whatever reference its user has. This module reads those
files and turns each into the same thing, a :class:`Reference`: the reference's contacts as
:class:`~gaitmon.analysis.steps.Step` records on the *reference's own clock* (s), with the same
definitions as gaitmon's steps (contact = TO − IC; flight = next contact of the other foot − TO;
step = contact + flight). The layout is recognised from the file's content, never from its name:

- **event table** — ``t_s, side, event`` rows with event ``TO``/``IC`` (the layout of the shared
  datasets' ``*_events.csv``, e.g. force-plate events of an instrumented treadmill);
- **vertical force** — a time column and one vertical-force column per side or per plate (N);
  contacts are where the force exceeds a threshold (default 20 N), the crossings interpolated
  linearly between samples (sub-sample timing). Per-plate columns give contacts of unknown side;
- **OptoJump Next** export — per-step rows with contact and flight time and the foot
  (:data:`OPTOJUMP_COLUMNS`; CSV with ``;`` or ``,`` and decimal comma or point, or XML);
- **step table** — any per-step table with contact and flight time (``contact_ms, flight_ms`` or
  ``_s``), optional ``side`` and a time column.

Tables without a time column get one by adding contact + flight times from 0 (``Reference.timed``
is False then: one missing contact shifts every later one, which the alignment notices).

Every field is validated; a bad one raises :class:`~gaitmon.errors.InputError` naming the file and
line (or XML line and column).
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitmon.analysis.steps import Step, build_steps
from gaitmon.errors import InputError
from gaitmon.events import GaitEvent
from gaitmon.io._common import open_binary, quote, where

#: Default vertical-force threshold for contact, N (the usual force-plate convention: 10–50 N).
FORCE_THRESHOLD_N = 20.0
#: Shortest contact and shortest airborne spell kept from a force signal, s (shorter = noise).
MIN_FORCE_SPELL_S = 0.03
#: Longest plausible contact or step, s (longer pairings are not formed, as in gaitmon's steps).
MAX_STEP_S = 1.5

#: Header names (normalised by :func:`normalise`) → meaning, in order of preference. OptoJump Next
#: (and OptoGait, the same software) writes its columns in the language of the installation; the
#: Spanish, French and English names are those of real exports (``docs/validation.md``).
TIME_NAMES = ("t_s", "t_ms", "ic_s", "ic_ms", "split", "intermediaire", "time_s", "time_ms", "t", "time", "ic",
              "timestamp", "t_ic", "start")
SIDE_NAMES = ("side", "foot", "leg", "l_r", "g_d", "lr", "piede")
EVENT_NAMES = ("event", "event_type", "kind")
CONTACT_NAMES = ("contact_ms", "contact_s", "contact", "contact_time", "contact_time_ms", "contact_time_s",
                 "ground_contact_time", "gct", "tc", "tcontact", "tcontacto", "temps_de_contact",
                 "tiempo_de_contacto", "tcontatto", "tempo_di_contatto")
FLIGHT_NAMES = ("flight_ms", "flight_s", "flight", "flight_time", "flight_time_ms", "flight_time_s", "tf",
                "aerial_time", "tflight", "tvuelo", "temps_de_vol", "tiempo_de_vuelo", "tvolo", "tempo_di_volo")
STEP_TIME_NAMES = ("step_ms", "step_s", "step_time", "tstep", "tpaso", "temps_de_pas", "tpasso")
#: The row-type column of an OptoJump export: a number for a step, text (``START``, ``Expiration``,
#: ``No step``, ``Tc not valid`` …) for any other row.
ROW_KIND_NAME = "#"
#: Words that make a header an OptoJump Next export rather than a generic step table.
OPTOJUMP_MARKERS = ("tcontacto", "tvuelo", "temps_de_vol", "tcontatto", "tvolo", "tpaso", "temps_de_pas",
                    "intermediaire")
SIDE_WORDS = {"l": "left", "left": "left", "g": "left", "gauche": "left", "sx": "left", "sinistro": "left",
              "izquierdo": "left", "links": "left",
              "r": "right", "right": "right", "d": "right", "droite": "right", "dx": "right", "destro": "right",
              "derecho": "right", "rechts": "right"}
EVENT_WORDS = {"ic": "IC", "hs": "IC", "fs": "IC", "heel_strike": "IC", "foot_strike": "IC",
               "initial_contact": "IC", "to": "TO", "fo": "TO", "toe_off": "TO", "foot_off": "TO"}
#: Rows that end the data (summary lines under an export's table).
SUMMARY_WORDS = ("average", "avg", "mean", "media", "sd", "std", "dev_std", "total", "totale", "min", "max")


@dataclass
class Reference:
    """A reference system's contacts, on its own clock.

    Attributes
    ----------
    path : Path
        The file read.
    kind : str
        ``"event table"``, ``"vertical force"``, ``"OptoJump Next"`` or ``"step table"``.
    steps : list of Step
        One per reference contact, sorted by ``ic_s`` (s, reference clock). ``side`` is ``"left"``,
        ``"right"`` or ``""`` (unknown: per-plate force, a table without a foot column).
    timed : bool
        Whether ``ic_s`` comes from the file (True) or from adding up contact and flight times (False).
    lines : list of str
        Where each step came from in the file (``"line 12"``), for ``validation.csv``.
    notes : list of str
        What was assumed while reading (units, separator, threshold), shown in the outputs.
    event_table : list of GaitEvent, optional
        An event table's own events: its toe-offs include those with no IC before them (the
        first of a recording), which the steps leave out.
    """

    path: Path
    kind: str
    steps: list[Step]
    timed: bool = True
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    event_table: list[GaitEvent] | None = None

    def toe_offs(self) -> list[GaitEvent]:
        """Every toe-off the reference knows, sorted by time (reference clock)."""
        if self.event_table is not None:
            return [e for e in self.event_table if e.kind == "TO"]
        return sorted(GaitEvent(s.to_s, s.side, "TO") for s in self.steps if math.isfinite(s.to_s))


def read_reference(path: str | Path, force_threshold_n: float = FORCE_THRESHOLD_N) -> Reference:
    """Read a reference export, recognising its layout from the content (module docstring).

    Raises
    ------
    gaitmon.errors.InputError
        Missing, empty, truncated or unreadable file; a layout that is none of the known ones (the
        message lists what was found and what is read); a bad field (file and line); no contacts.
    """
    path = Path(path)
    if not (math.isfinite(force_threshold_n) and force_threshold_n > 0):
        raise InputError(path, None, f"force threshold {force_threshold_n!r} N: give a positive number")
    text, encoding_note = _read_text(path)
    if not text.strip():
        raise InputError(path, None, "file is empty (expected a reference export: events, force or steps)")
    if text.lstrip().startswith("<"):
        reference = _read_xml(path, text)
    else:
        reference = _read_delimited(path, text, force_threshold_n)
    if encoding_note:
        reference.notes.insert(0, encoding_note)
    if not reference.steps:
        raise InputError(path, None, f"{reference.kind} holds no contacts (no steps to compare)")
    return reference


# --- text and tables ---------------------------------------------------------------------------------

def _read_text(path: Path) -> tuple[str, str]:
    with open_binary(path) as f:
        try:
            data = f.read()
        except OSError as exc:
            raise InputError(path, None, f"cannot read file: {exc.strerror or exc}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "read as UTF-16 text"
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        # Windows exports (OptoJump's software runs on Windows) are often in the ANSI code page.
        return data.decode("cp1252", errors="replace"), "not UTF-8: read as Windows-1252 text"


def normalise(name: str) -> tuple[str, str]:
    """A header name without its unit, as a lower-case identifier, and the unit it names.

    ``"Contact Time [ms]"`` → ``("contact_time", "ms")``; ``"contact_s"`` → ``("contact_s", "s")``.
    """
    unit = ""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    bracket = re.search(r"[\[(]\s*([^\])]*)\s*[\])]", name)
    if bracket:
        unit = bracket.group(1).strip().lower()
        name = name[: bracket.start()] + name[bracket.end():]
    key = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    if not unit:
        for suffix in ("ms", "s", "sec", "n"):
            if key.endswith("_" + suffix):
                unit = suffix
                break
    return key, {"sec": "s", "msec": "ms"}.get(unit, unit)


def _delimiter(lines: list[str]) -> str:
    sample = [ln for ln in lines[:40] if ln.strip()]
    counts = {d: sum(ln.count(d) for ln in sample) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _split(line: str, delimiter: str) -> list[str]:
    """One line's fields (quotes as in CSV), white space stripped."""
    return [f.strip() for f in next(csv.reader([line], delimiter=delimiter), [])]


def _number(path: Path, line_no: int, column: str, text: str, decimal_comma: bool) -> float:
    raw = text.strip()
    if decimal_comma:
        raw = raw.replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        raise InputError(path, where(line_no), f"column {column!r}: {quote(text)} is not a number") from None
    if not math.isfinite(value):
        raise InputError(path, where(line_no), f"column {column!r}: {quote(text)} is not a finite number")
    return value


def _side(path: Path, line_no: int, column: str, text: str) -> str:
    key = re.sub(r"[^a-z]+", "_", text.strip().lower()).strip("_")
    if key in SIDE_WORDS:
        return SIDE_WORDS[key]
    raise InputError(path, where(line_no), f"column {column!r}: {quote(text)} is not a foot "
                     "(L/R, left/right, Sx/Dx)")


def _find(keys: list[str], names: tuple[str, ...]) -> int | None:
    """The column of the most preferred of ``names`` (the first column of that name)."""
    for name in names:
        if name in keys:
            return keys.index(name)
    return None


@dataclass
class _Table:
    header_line: int
    names: list[str]
    keys: list[str]
    units: list[str]
    rows: list[tuple[int, list[str]]]
    delimiter: str
    decimal_comma: bool
    preamble: str


def _table(text: str) -> tuple[_Table | None, list[str]]:
    """The first header line whose names make a known layout, and its data rows."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    delimiter = _delimiter(lines)
    first_names: list[str] = []
    for h, line in enumerate(lines[:60]):
        if not line.strip():
            continue
        names = _split(line, delimiter)
        if not first_names:
            first_names = names
        parsed = [normalise(n) for n in names]
        keys = [k for k, _ in parsed]
        if _layout(keys) is None:
            continue
        rows = []
        for i in range(h + 1, len(lines)):
            if not lines[i].strip():
                continue
            fields = _split(lines[i], delimiter)
            if fields and re.sub(r"[^a-z_]+", "", fields[0].lower()) in SUMMARY_WORDS:
                break
            rows.append((i + 1, fields))
        numeric = [f for _, fs in rows[:50] for f in fs if re.fullmatch(r"-?\d+,\d+", f)]
        decimal_comma = delimiter != "," and bool(numeric)
        return _Table(h + 1, names, keys, [u for _, u in parsed], rows, delimiter, decimal_comma,
                      "\n".join(lines[:h]).lower()), first_names
    return None, first_names


def _layout(keys: list[str]) -> str | None:
    if _find(keys, EVENT_NAMES) is not None and _find(keys, TIME_NAMES) is not None:
        return "event table"
    if _force_columns(keys) and _find(keys, TIME_NAMES) is not None:
        return "vertical force"
    if _find(keys, CONTACT_NAMES) is not None and _find(keys, FLIGHT_NAMES) is not None:
        return "steps"
    return None


def _read_delimited(path: Path, text: str, force_threshold_n: float) -> Reference:
    table, first = _table(text)
    if table is None:
        found = ", ".join(repr(n) for n in first[:12]) or "nothing"
        raise InputError(path, where(1), "not a reference layout gaitmon reads (found columns "
                         f"{found}); expected an event table (t_s, side, event), a vertical-force CSV "
                         "(time and Fz columns), an OptoJump Next export or a step table (contact and flight "
                         "times)")
    if not table.rows:
        raise InputError(path, where(table.header_line), "header only: the table has no rows (no steps)")
    for line_no, fields in table.rows:
        if len(fields) != len(table.names):
            last = line_no == table.rows[-1][0]
            hint = " (the file looks truncated)" if last and len(fields) < len(table.names) else ""
            raise InputError(path, where(line_no), f"expected {len(table.names)} fields as in the header, "
                             f"found {len(fields)}{hint}")
    layout = _layout(table.keys)
    if layout == "event table":
        return _event_table(path, table)
    if layout == "vertical force":
        return _force_table(path, table, force_threshold_n)
    return _step_table(path, table)


def _seconds(values: np.ndarray, unit: str, what: str, notes: list[str]) -> np.ndarray:
    """Values in s: by the header's unit, else ms when the median is over 5 (nobody's contact lasts 5 s)."""
    if unit == "ms":
        return values / 1e3
    if unit == "s":
        return values
    finite = values[np.isfinite(values)]
    if len(finite) and np.median(np.abs(finite)) > 5.0:
        notes.append(f"{what} had no unit in its header: read as ms (values around {np.median(finite):.0f})")
        return values / 1e3
    notes.append(f"{what} had no unit in its header: read as s")
    return values


def _event_table(path: Path, table: _Table) -> Reference:
    ti, si, ei = _find(table.keys, TIME_NAMES), _find(table.keys, SIDE_NAMES), _find(table.keys, EVENT_NAMES)
    assert ti is not None and ei is not None
    if si is None:
        raise InputError(path, where(table.header_line), "event table without a side column (left/right)")
    events, seen, line_of = [], set(), {}
    for line_no, fields in table.rows:
        t = _number(path, line_no, table.names[ti], fields[ti], table.decimal_comma)
        side = _side(path, line_no, table.names[si], fields[si])
        word = re.sub(r"[^a-z]+", "_", fields[ei].strip().lower()).strip("_")
        if word == "msw":
            continue
        if word not in EVENT_WORDS:
            raise InputError(path, where(line_no), f"column {table.names[ei]!r}: {quote(fields[ei])} is not "
                             "an event (TO or IC)")
        event = GaitEvent(t, side, EVENT_WORDS[word])
        if (t, side, event.kind) in seen:
            raise InputError(path, where(line_no), f"the same event ({t:g} s, {side}, {event.kind}) twice")
        seen.add((t, side, event.kind))
        events.append(event)
        line_of[(event.t, side, event.kind)] = line_no
    if table.units[ti] == "ms":
        events = [GaitEvent(e.t / 1e3, e.side, e.kind) for e in events]
        line_of = {(t / 1e3, side, kind): n for (t, side, kind), n in line_of.items()}
    steps = build_steps(events, sides=sorted({e.side for e in events}), max_contact_s=MAX_STEP_S,
                        max_step_s=MAX_STEP_S)
    lines = [f"line {line_of.get((s.ic_s, s.side, 'IC'), '?')}" for s in steps]
    return Reference(path, "event table", steps, True, lines, [], sorted(events))


def _force_columns(keys: list[str]) -> list[int]:
    return [i for i, k in enumerate(keys)
            if re.fullmatch(r"(v?grf_?z|fz|force_?z|f_?z|vertical_force|force|vgrf)(_?\w*)?", k)
            or re.match(r"fz", k)]


def _force_side(key: str) -> str:
    if re.search(r"(^|_)(l|left|sx)($|_)", key) or key.endswith("left") or key.endswith("_l"):
        return "left"
    if re.search(r"(^|_)(r|right|dx)($|_)", key) or key.endswith("right") or key.endswith("_r"):
        return "right"
    return ""


def force_contacts(t: np.ndarray, fz: np.ndarray, threshold_n: float = FORCE_THRESHOLD_N,
                   min_spell_s: float = MIN_FORCE_SPELL_S) -> list[tuple[float, float]]:
    """Contacts of one force channel: ``(IC, TO)`` times, s, where ``fz`` rises above / falls below
    ``threshold_n``, interpolated linearly between the samples either side of each crossing.

    A contact or an airborne spell shorter than ``min_spell_s`` is noise: the spell is merged into
    its neighbours. A contact already under way at the first sample or still going at the last has
    no IC or no TO and is left out.
    """
    above = fz > threshold_n
    change = np.flatnonzero(np.diff(above.astype(np.int8)))
    crossings = []
    for i in change:
        f0, f1 = fz[i], fz[i + 1]
        frac = (threshold_n - f0) / (f1 - f0) if f1 != f0 else 0.5
        crossings.append((float(t[i] + frac * (t[i + 1] - t[i])), bool(above[i + 1])))
    spans: list[list[float]] = []
    start = None
    for time, rising in crossings:
        if rising:
            start = time
        elif start is not None:
            spans.append([start, time])
            start = None
    merged: list[list[float]] = []
    for span in spans:
        if merged and span[0] - merged[-1][1] < min_spell_s:
            merged[-1][1] = span[1]
        else:
            merged.append(span)
    return [(a, b) for a, b in merged if b - a >= min_spell_s]


def _force_table(path: Path, table: _Table, threshold_n: float) -> Reference:
    ti = _find(table.keys, TIME_NAMES)
    assert ti is not None
    columns = _force_columns(table.keys)
    data = np.empty((len(table.rows), 1 + len(columns)))
    for r, (line_no, fields) in enumerate(table.rows):
        data[r, 0] = _number(path, line_no, table.names[ti], fields[ti], table.decimal_comma)
        for c, i in enumerate(columns, start=1):
            data[r, c] = _number(path, line_no, table.names[i], fields[i], table.decimal_comma)
    t = data[:, 0] / (1e3 if table.units[ti] == "ms" else 1.0)
    bad = np.flatnonzero(np.diff(t) <= 0)
    if len(bad):
        raise InputError(path, where(table.rows[bad[0] + 1][0]), "time does not increase")
    rate = f"; {1 / np.median(np.diff(t)):.0f} Hz" if len(t) > 1 else ""
    notes = [f"contacts where vertical force > {threshold_n:g} N (crossings interpolated between samples{rate})"]
    sides = [_force_side(table.keys[i]) for i in columns]
    if len(set(sides)) != len(sides) or "" in sides:
        sides = [""] * len(sides)
        notes.append(f"force columns {', '.join(table.names[i] for i in columns)} do not name a side: "
                     "contacts of unknown foot")
    events: list[tuple[float, float, str]] = []
    for c, side in enumerate(sides, start=1):
        events += [(ic, to, side) for ic, to in force_contacts(t, data[:, c], threshold_n)]
    events.sort()
    steps = _steps_from_contacts([(ic, to - ic, side) for ic, to, side in events], flights=None)
    return Reference(path, "vertical force", steps, True, [f"t {s.ic_s:.3f} s" for s in steps], notes)


def _steps_from_contacts(contacts: list[tuple[float, float, str]], flights: list[float] | None) -> list[Step]:
    """Steps from ``(ic_s, contact_s, side)`` in time order; flight to the next contact unless given."""
    steps = []
    for k, (ic, contact, side) in enumerate(contacts):
        if flights is not None:
            flight = flights[k]
        elif k + 1 < len(contacts) and contacts[k + 1][0] - ic <= MAX_STEP_S:
            flight = contacts[k + 1][0] - (ic + contact)
        else:
            flight = math.nan
        step = contact + flight
        steps.append(Step(side=side, ic_s=ic, to_s=ic + contact, contact_s=contact, flight_s=flight,
                          step_s=step, step_hz=1.0 / step if step > 0 else math.nan))
    return steps


def _step_table(path: Path, table: _Table) -> Reference:
    ci, fi = _find(table.keys, CONTACT_NAMES), _find(table.keys, FLIGHT_NAMES)
    ti, si = _find(table.keys, TIME_NAMES), _find(table.keys, SIDE_NAMES)
    pi = _find(table.keys, STEP_TIME_NAMES)
    ki = next((i for i, name in enumerate(table.names) if name.strip() == ROW_KIND_NAME), None)
    assert ci is not None and fi is not None
    optojump = any(marker in table.keys for marker in OPTOJUMP_MARKERS) or "optojump" in table.preamble
    kind = "OptoJump Next" if optojump else "step table"
    notes: list[str] = []
    if table.decimal_comma:
        notes.append(f"decimal comma, fields separated by {table.delimiter!r}")
    rows: list[tuple[int, list[str]]] = []
    skipped: dict[str, int] = {}
    for line_no, fields in table.rows:
        if ki is not None and not re.fullmatch(r"\d+", fields[ki]):
            label = fields[ki] or (fields[si] if si is not None else "") or "blank"
            skipped[label] = skipped.get(label, 0) + 1
            continue
        rows.append((line_no, fields))
    if skipped:
        notes.append("rows that are not steps left out: " + ", ".join(f"{k} ({n})" for k, n in skipped.items()))
    if not rows:
        raise InputError(path, where(table.header_line), f"{kind} without step rows (no steps to compare)")
    n = len(rows)
    contact, flight, step, times = (np.full(n, math.nan) for _ in range(4))
    sides = []
    for r, (line_no, fields) in enumerate(rows):
        contact[r] = _number(path, line_no, table.names[ci], fields[ci], table.decimal_comma)
        flight[r] = _optional_number(path, line_no, table.names[fi], fields[fi], table.decimal_comma)
        if pi is not None:
            step[r] = _optional_number(path, line_no, table.names[pi], fields[pi], table.decimal_comma)
        if ti is not None:
            times[r] = _number(path, line_no, table.names[ti], fields[ti], table.decimal_comma)
        sides.append(_side(path, line_no, table.names[si], fields[si]) if si is not None else "")
    contact = _seconds(contact, table.units[ci], f"column {table.names[ci]!r}", notes)
    flight = _seconds(flight, table.units[fi], f"column {table.names[fi]!r}", notes)
    if pi is not None:
        step = _seconds(step, table.units[pi], f"column {table.names[pi]!r}", notes)
        flight = np.where(np.isfinite(flight), flight, step - contact)  # walking: negative = double support
    for r, (line_no, _) in enumerate(rows):
        if not 0 < contact[r] <= MAX_STEP_S:
            raise InputError(path, where(line_no), f"contact time {contact[r] * 1e3:g} ms is not a contact "
                             f"(0 < contact ≤ {MAX_STEP_S * 1e3:g} ms)")
        if math.isfinite(flight[r]) and not -MAX_STEP_S < flight[r] <= MAX_STEP_S:
            raise InputError(path, where(line_no), f"flight time {flight[r] * 1e3:g} ms is out of range")
    timed = ti is not None
    if ti is not None:
        times = _seconds(times, table.units[ti] or "s", f"column {table.names[ti]!r}", [])
        bad = np.flatnonzero(np.diff(times) <= 0)
        if len(bad):
            raise InputError(path, where(rows[bad[0] + 1][0]), f"column {table.names[ti]!r}: time does "
                             "not increase from the row before")
    else:
        steps_s = np.where(np.isfinite(flight), contact + flight, contact)
        times = np.concatenate([[0.0], np.cumsum(steps_s)[:-1]])
        notes.append("no time column: contacts placed by adding up contact and flight times")
    steps = _steps_from_contacts(list(zip(times.tolist(), contact.tolist(), sides)), flights=flight.tolist())
    return Reference(path, kind, steps, timed, [where(n) for n, _ in rows], notes)


def _optional_number(path: Path, line_no: int, column: str, text: str, decimal_comma: bool) -> float:
    """A value that may be missing (empty or a dash): the last step of a test has no flight."""
    if text.strip() in ("", "-", "--", "n/a", "na"):
        return math.nan
    return _number(path, line_no, column, text, decimal_comma)


# --- OptoJump's XML: an Excel 2003 "SpreadsheetML" workbook --------------------------------------------

SPREADSHEET_NS = "urn:schemas-microsoft-com:office:spreadsheet"


def _read_xml(path: Path, text: str) -> Reference:
    """The first worksheet of an Excel 2003 XML workbook (OptoJump Next's XML export) as a step table.

    Row 1 is the header. Empty cells are left out of a row and the next cell says its 1-based column
    in ``ss:Index``; numbers use a decimal point.
    """
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        line, column = exc.position
        raise InputError(path, f"line {line}, column {column + 1}", f"not well-formed XML "
                         f"({str(exc).split(':')[0]}); the file looks truncated or damaged") from None
    ns = {"ss": SPREADSHEET_NS}
    table = root.find("ss:Worksheet/ss:Table", ns)
    if root.tag != f"{{{SPREADSHEET_NS}}}Workbook" or table is None:
        raise InputError(path, None, f"XML but not an OptoJump Next export (an Excel XML workbook); root "
                         f"element {root.tag.split('}')[-1]!r}")
    grid = []
    for row in table.findall("ss:Row", ns):
        cells: list[str] = []
        for cell in row.findall("ss:Cell", ns):
            index = cell.get(f"{{{SPREADSHEET_NS}}}Index")
            if index is not None and index.isdigit():
                cells += [""] * (int(index) - 1 - len(cells))
            data = cell.find("ss:Data", ns)
            cells.append((data.text or "").strip() if data is not None else "")
        grid.append(cells)
    if not grid:
        raise InputError(path, None, "the workbook's first sheet is empty (no header, no steps)")
    names = grid[0]
    parsed = [normalise(n) for n in names]
    keys = [k for k, _ in parsed]
    if _layout(keys) != "steps":
        raise InputError(path, "row 1", "the first sheet has no contact and flight time columns (found "
                         f"{', '.join(repr(n) for n in names[:12])}); expected an OptoJump Next export")
    rows = [(i, cells + [""] * (len(names) - len(cells))) for i, cells in enumerate(grid[1:], start=2)]
    try:
        reference = _step_table(path, _Table(1, names, keys, [u for _, u in parsed], rows, ",", False, "optojump"))
    except InputError as error:  # a spreadsheet has rows, not lines
        where_row = re.sub(r"line (\d+)", r"sheet 1, row \1", error.where or "") or None
        raise InputError(path, where_row, error.problem) from None
    reference.kind = "OptoJump Next"
    reference.lines = [line.replace("line", "sheet 1, row") for line in reference.lines]
    return reference
