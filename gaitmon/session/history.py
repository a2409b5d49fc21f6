"""The athlete history: every imported session of every athlete, in one embedded SQLite file.

What is kept per session: its metadata (:class:`~gaitmon.session.meta.SessionMeta`), its step
table (:data:`gaitmon.analysis.steps.STEP_COLUMNS`, each step with the rep and phase it belongs to) and its
rep table (:data:`gaitmon.analysis.REP_COLUMNS`), so the session-scale strength-balance flag can be
re-run over an athlete's weeks without the session folders. Steps are stored as detected, never
calibrated. Per athlete it also keeps the calibrations ``gaitmon validate --save-calibration`` measured
(:class:`~gaitmon.analysis.calibration.Calibration`: one row per metric and band); the newest is the
one later analyses apply (:func:`saved_calibration`).

The file
--------
``default_db_path()`` unless given: ``$GAITMON_HOME/history.sqlite`` when that variable is set,
otherwise the platform's per-user data folder (:func:`default_data_dir`). The database is marked as
gaitmon's (``PRAGMA application_id``) and carries its layout version (``PRAGMA user_version``); a
file written by a newer gaitmon is refused rather than misread, and one of an older layout is brought
up to date when opened (:data:`_MIGRATIONS`, one transaction per version). It runs in WAL mode, and
each import is one transaction: a crash or an error half-way leaves the file as it was before the
import.

Importing is idempotent: the key is ``session_id``, and a content hash of everything stored for the
session tells a repeat import ("unchanged", nothing written) from a re-analysed session ("updated",
its rows replaced). Athletes are matched by name case-insensitively, ignoring surrounding white
space; the name is shown as first imported.

NaN values (a step metric that could not be formed) are stored as SQL NULL and read back as NaN.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import math
import os
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from gaitmon.analysis import REP_COLUMNS, Flag, Rep, segment_reps, session_scale_flags
from gaitmon.analysis.balance import PUSH, SWING, leg_medians, percent_change, top_speed_rows
from gaitmon.analysis.calibration import Calibration, CalibrationEntry
from gaitmon.errors import InputError
from gaitmon.session.meta import SensorInfo, SessionMeta, utc_now_iso
from gaitmon.analysis.steps import STEP_COLUMNS, Step

#: Layout version of the database this code reads and writes (``PRAGMA user_version``).
SCHEMA_VERSION = 2
#: ``PRAGMA application_id`` of a gaitmon history: "gait" in ASCII.
APPLICATION_ID = 0x67616974
#: Sessions with reps the session-scale flag needs before it decides anything.
MIN_SESSIONS = 4

PHASES = ("acceleration", "top_speed", "deceleration")

# Version 2: the athletes' calibrations, one row per metric and band of each.
_CALIBRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS calibrations (
        athlete TEXT NOT NULL REFERENCES athletes (key),
        created_at TEXT NOT NULL,       -- ISO 8601 UTC, microseconds: identifies the calibration
        source TEXT NOT NULL,           -- what it was measured against
        metric TEXT NOT NULL,           -- contact or flight
        band TEXT NOT NULL,             -- all, acceleration or top_speed
        bias_s REAL NOT NULL,           -- gaitmon - reference, s (corrected = raw - bias)
        sd_s REAL,                      -- NULL when unknown
        n INTEGER NOT NULL,             -- matched steps
        PRIMARY KEY (athlete, created_at, metric, band)
    )"""

# The on-disk layout. The two PRAGMA lines must agree with SCHEMA_VERSION and APPLICATION_ID
# (PRAGMA values cannot be bound as parameters).
_SCHEMA = (
    "PRAGMA application_id = 1734437236",
    "PRAGMA user_version = 2",
    """CREATE TABLE IF NOT EXISTS athletes (
        key TEXT PRIMARY KEY,           -- the name stripped and case-folded
        name TEXT NOT NULL              -- the name as first imported
    )""",
    """CREATE TABLE IF NOT EXISTS sessions (
        session_id TEXT PRIMARY KEY,
        athlete TEXT NOT NULL REFERENCES athletes (key),
        started_at TEXT NOT NULL,       -- ISO 8601 UTC, microseconds: sorts in time order
        placement TEXT NOT NULL,
        source TEXT NOT NULL,
        source_path TEXT NOT NULL,
        software_version TEXT NOT NULL,
        sensors TEXT NOT NULL,          -- JSON: role -> SensorInfo fields
        ended_at TEXT,
        duration_s REAL,
        notes TEXT NOT NULL,
        n_steps INTEGER NOT NULL,
        n_reps INTEGER NOT NULL,
        content_hash TEXT NOT NULL,     -- SHA-256 of the metadata, steps and reps as stored
        imported_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS sessions_by_athlete ON sessions (athlete, started_at)",
    """CREATE TABLE IF NOT EXISTS reps (
        session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
        rep INTEGER NOT NULL,
        side TEXT NOT NULL,             -- left, right, or both
        start_s REAL, end_s REAL,
        n_steps INTEGER, n_acceleration_steps INTEGER, n_top_speed_steps INTEGER,
        swing_peak_rad_s REAL, push_force_bw REAL, contact_s REAL, flight_s REAL, step_hz REAL,
        asymmetry_swing_pct REAL, asymmetry_push_pct REAL,
        PRIMARY KEY (session_id, rep, side)
    )""",
    """CREATE TABLE IF NOT EXISTS steps (
        session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
        step INTEGER NOT NULL,          -- position in the step table as given
        side TEXT,
        ic_s REAL, to_s REAL, contact_s REAL, flight_s REAL, step_s REAL, step_hz REAL, swing_s REAL,
        swing_peak_rad_s REAL, push_force_bw REAL,
        flight_source TEXT,
        rep INTEGER,                    -- NULL outside reps
        phase TEXT,                     -- acceleration, top_speed or deceleration; NULL outside reps
        PRIMARY KEY (session_id, step)
    )""",
    _CALIBRATIONS_TABLE,
)

#: layout version → the statements that bring a database of that version to the next one.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (_CALIBRATIONS_TABLE, "PRAGMA user_version = 2"),
}

# Statements built from the column tuples (identifiers only; every value is a bound parameter).
_INSERT_STEP = (f"INSERT INTO steps (session_id, step, {', '.join(STEP_COLUMNS)}, rep, phase) "
                f"VALUES ({', '.join('?' * (len(STEP_COLUMNS) + 4))})")
_SELECT_STEPS = f"SELECT {', '.join(STEP_COLUMNS)} FROM steps WHERE session_id = ? ORDER BY step"
_SELECT_TOP_SPEED = (f"SELECT st.session_id, st.rep, {', '.join('st.' + c for c in STEP_COLUMNS)} FROM steps st "
                     "JOIN sessions s ON s.session_id = st.session_id "
                     "WHERE s.athlete = ? AND st.phase = 'top_speed' ORDER BY st.session_id, st.rep, st.step")
_INSERT_REP = (f"INSERT INTO reps (session_id, {', '.join(REP_COLUMNS)}) "
               f"VALUES ({', '.join('?' * (len(REP_COLUMNS) + 1))})")
_SELECT_REPS = f"SELECT {', '.join(REP_COLUMNS)} FROM reps WHERE session_id = ? ORDER BY rowid"
_SESSION_FIELDS = ("session_id", "athlete", "started_at", "placement", "source", "source_path", "software_version",
                   "sensors", "ended_at", "duration_s", "notes", "n_steps", "n_reps", "content_hash", "imported_at")
_INSERT_SESSION = (f"INSERT INTO sessions ({', '.join(_SESSION_FIELDS)}) "
                   f"VALUES ({', '.join('?' * len(_SESSION_FIELDS))})")
_SELECT_SESSIONS = (f"SELECT {', '.join('s.' + f for f in _SESSION_FIELDS)}, a.name FROM sessions s "
                    "JOIN athletes a ON a.key = s.athlete WHERE s.athlete = ? ORDER BY s.started_at, s.session_id")

_CALIBRATION_FIELDS = ("metric", "band", "bias_s", "sd_s", "n")
_INSERT_CALIBRATION = (f"INSERT INTO calibrations (athlete, created_at, source, {', '.join(_CALIBRATION_FIELDS)}) "
                       f"VALUES ({', '.join('?' * (len(_CALIBRATION_FIELDS) + 3))})")
_SELECT_CALIBRATIONS = (f"SELECT c.created_at, c.source, {', '.join('c.' + f for f in _CALIBRATION_FIELDS)}, a.name "
                        "FROM calibrations c JOIN athletes a ON a.key = c.athlete WHERE c.athlete = ? "
                        "ORDER BY c.created_at DESC, c.rowid")
#: Athletes with neither sessions nor calibrations are forgotten.
_FORGET_ATHLETES = ("DELETE FROM athletes WHERE key NOT IN (SELECT athlete FROM sessions) "
                    "AND key NOT IN (SELECT athlete FROM calibrations)")

_TEXT_COLUMNS = frozenset({"side", "flight_source"})
_INT_COLUMNS = frozenset({"rep", "n_steps", "n_acceleration_steps", "n_top_speed_steps"})


def default_data_dir() -> Path:
    """Folder of gaitmon's per-user data.

    ``$GAITMON_HOME`` when set; otherwise ``$XDG_DATA_HOME/gaitmon`` when that is set; otherwise
    ``%LOCALAPPDATA%\\gaitmon`` on Windows, ``~/Library/Application Support/gaitmon`` on macOS and
    ``~/.local/share/gaitmon`` elsewhere.
    """
    home = os.environ.get("GAITMON_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg).expanduser() / "gaitmon"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "gaitmon"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "gaitmon"
    return Path.home() / ".local" / "share" / "gaitmon"


def default_db_path() -> Path:
    """The athlete history used when none is named: ``default_data_dir() / "history.sqlite"``."""
    return default_data_dir() / "history.sqlite"


@dataclass(frozen=True)
class SessionRecord:
    """One session as stored in the history (what :meth:`History.sessions` lists).

    Attributes
    ----------
    session_id, athlete, started_at, placement, source, software_version, ended_at, duration_s, notes
        As in :class:`~gaitmon.session.meta.SessionMeta`; ``athlete`` is the stored display name and
        ``started_at`` is in UTC.
    sensors : dict
        role → :class:`~gaitmon.session.meta.SensorInfo`.
    source_path : str
        Where the session was imported from, as given to :meth:`History.add_session`.
    n_steps, n_reps : int
        Rows of its step table; reps found in it.
    content_hash : str
        SHA-256 (hex) of everything stored for it; decides "unchanged" on a repeat import.
    imported_at : str
        Wall-clock time of the last import that wrote it (ISO 8601 UTC).
    """

    session_id: str
    athlete: str
    started_at: str
    placement: str
    source: str
    source_path: str
    software_version: str
    sensors: dict[str, SensorInfo]
    ended_at: str | None
    duration_s: float | None
    notes: str
    n_steps: int
    n_reps: int
    content_hash: str
    imported_at: str

    @property
    def meta(self) -> SessionMeta:
        """The session's metadata."""
        return SessionMeta(athlete=self.athlete, placement=self.placement, started_at=self.started_at,
                           source=self.source, sensors=dict(self.sensors), session_id=self.session_id,
                           software_version=self.software_version, ended_at=self.ended_at,
                           duration_s=self.duration_s, notes=self.notes)


class History:
    """The athlete history database; use as a context manager (or call :meth:`close`).

    Parameters
    ----------
    path : Path, optional
        The database file; created, with its parent folders, if missing. Default
        :func:`default_db_path`.

    Attributes
    ----------
    path : Path
        The database file.

    Raises
    ------
    gaitmon.errors.InputError
        The file is not a gaitmon history (not SQLite, corrupted, another program's database), was
        written by a newer gaitmon, or cannot be opened; any later SQLite failure too.
    """

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._errors():
            self._db = sqlite3.connect(self.path, isolation_level=None)  # transactions are explicit
            try:
                self._open()
            except BaseException:
                self._db.close()
                raise

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Close the database file."""
        self._db.close()

    def add_session(self, meta: SessionMeta, steps: list[Step], source_path: str = "", reassign: bool = False) -> str:
        """Import one session: its metadata, step table and the reps found in it.

        Parameters
        ----------
        meta : SessionMeta
            Must name the athlete; ``started_at`` must be ISO 8601 (stored in UTC).
        steps : list of Step
            The session's step table (:func:`gaitmon.analysis.steps.build_steps`); every field
            (:data:`~gaitmon.analysis.steps.STEP_COLUMNS`) is stored. A table read from elsewhere
            (a CSV) is made of its rows with :meth:`Step.from_row <gaitmon.analysis.steps.Step.from_row>`.
        source_path : str
            Where the session came from (a session folder, a CSV), for the record.
        reassign : bool
            Move the session to ``meta.athlete`` when it is in the history under another athlete
            (it was filed under the wrong name); without it that is refused.

        Returns
        -------
        str
            ``"added"`` (new session), ``"unchanged"`` (same session_id and content: nothing written)
            or ``"updated"`` (same session_id, different content: its rows replaced).

        Raises
        ------
        ValueError
            No athlete name, ``started_at`` not ISO 8601, or steps that are not :class:`Step` records.
        SessionOwnerError
            The session is in the history already, under another athlete (it is left there), and
            ``reassign`` is False.
        """
        key = _athlete_key(meta.athlete)
        if not key:
            raise ValueError(f"session {meta.session_id} has no athlete name; the history is kept per athlete")
        started_at = _utc_iso(meta.started_at)
        wrong = next((step for step in steps if not isinstance(step, Step)), None)
        if wrong is not None:
            raise ValueError(f"not a step table: a {type(wrong).__name__} where a Step belongs "
                             "(Step.from_row makes one of a row)")
        reps = segment_reps(steps)
        step_values = _step_values(steps, reps)
        rep_values = [tuple(row[c] for c in REP_COLUMNS) for rep in reps for row in rep.table_rows()]
        sensors = json.dumps({role: asdict(info) for role, info in meta.sensors.items()}, sort_keys=True)
        stored_meta = {**meta.to_json(), "athlete": meta.athlete.strip(), "started_at": started_at}
        digest = hashlib.sha256(json.dumps([stored_meta, step_values, rep_values], sort_keys=True).encode()).hexdigest()
        with self._errors(), self._transaction():
            old = self._db.execute("SELECT s.content_hash, s.athlete, a.name FROM sessions s JOIN athletes a "
                                   "ON a.key = s.athlete WHERE s.session_id = ?", (meta.session_id,)).fetchone()
            if old is not None and old[1] != key and not reassign:
                raise SessionOwnerError(f"this session is already in the history as {old[2]}'s "
                                        f"(session {meta.session_id}); not moved to {meta.athlete.strip()} "
                                        f"(--reassign moves it, if it was filed under the wrong athlete)")
            if old is not None and old[0] == digest:
                return "unchanged"
            self._db.execute("DELETE FROM sessions WHERE session_id = ?", (meta.session_id,))  # cascades
            self._db.execute("INSERT OR IGNORE INTO athletes (key, name) VALUES (?, ?)", (key, meta.athlete.strip()))
            self._db.execute(_INSERT_SESSION, (
                meta.session_id, key, started_at, meta.placement, meta.source, str(source_path),
                meta.software_version, sensors, meta.ended_at, meta.duration_s, meta.notes, len(steps), len(reps),
                digest, utc_now_iso()))
            self._insert_rows(_INSERT_REP, meta.session_id, rep_values)
            self._insert_rows(_INSERT_STEP, meta.session_id, step_values)
            self._db.execute(_FORGET_ATHLETES)
        return "added" if old is None else "updated"

    def add_calibration(self, calibration: Calibration) -> str:
        """Store an athlete's calibration (``gaitmon validate --save-calibration``); one transaction.

        Storing a calibration of the same athlete and ``created_at`` again replaces it.

        Returns
        -------
        str
            Its id: ``created_at`` in UTC with microseconds, as :meth:`calibrations` gives it back
            (and the ``calibration`` column of a calibrated ``steps.csv`` names it).

        Raises
        ------
        ValueError
            No athlete name, or ``created_at`` not ISO 8601.
        """
        key = _athlete_key(calibration.athlete)
        if not key:
            raise ValueError("a calibration without an athlete name; the history is kept per athlete")
        created_at = _utc_iso(calibration.created_at)
        with self._errors(), self._transaction():
            self._db.execute("INSERT OR IGNORE INTO athletes (key, name) VALUES (?, ?)",
                             (key, calibration.athlete.strip()))
            self._db.execute("DELETE FROM calibrations WHERE athlete = ? AND created_at = ?", (key, created_at))
            self._db.executemany(_INSERT_CALIBRATION, (
                (key, created_at, calibration.source, e.metric, e.band, float(e.bias_s),
                 None if math.isnan(e.sd_s) else float(e.sd_s), int(e.n)) for e in calibration.entries))
        return created_at

    def calibrations(self, athlete: str) -> list[Calibration]:
        """The athlete's calibrations (name matched case-insensitively), newest first; [] if none."""
        with self._errors():
            rows = self._db.execute(_SELECT_CALIBRATIONS, (_athlete_key(athlete),)).fetchall()
        grouped: dict[str, list[tuple]] = {}
        for row in rows:
            grouped.setdefault(row[0], []).append(row)
        return [Calibration(athlete=group[0][-1], created_at=created_at, source=group[0][1], entries=tuple(
                    CalibrationEntry(metric, band, bias_s, math.nan if sd_s is None else sd_s, n)
                    for _, _, metric, band, bias_s, sd_s, n, _ in group))
                for created_at, group in grouped.items()]

    def calibration(self, athlete: str) -> Calibration | None:
        """The athlete's newest calibration (the one analyses apply), or None."""
        return next(iter(self.calibrations(athlete)), None)

    def athletes(self) -> list[str]:
        """Display names of the athletes with sessions or calibrations, alphabetical (case-insensitive)."""
        with self._errors():
            return [name for (name,) in self._db.execute("SELECT name FROM athletes ORDER BY key")]

    def sessions(self, athlete: str) -> list[SessionRecord]:
        """The athlete's sessions (name matched case-insensitively), oldest first; [] if unknown."""
        with self._errors():
            rows = self._db.execute(_SELECT_SESSIONS, (_athlete_key(athlete),)).fetchall()
        records = []
        for row in rows:
            fields = dict(zip(_SESSION_FIELDS, row))
            fields["athlete"] = row[-1]
            fields["sensors"] = {role: SensorInfo(**info) for role, info in json.loads(fields["sensors"]).items()}
            records.append(SessionRecord(**fields))
        return records

    def steps(self, session_id: str) -> list[Step]:
        """The session's step table as imported (:class:`~gaitmon.analysis.steps.Step`, NaN kept)."""
        with self._errors():
            rows = self._db.execute(_SELECT_STEPS, (session_id,)).fetchall()
        return [Step.from_row(dict(zip(STEP_COLUMNS, row))) for row in rows]

    def top_speed_steps(self, athlete: str) -> dict[str, dict[int, list[Step]]]:
        """The athlete's top-speed steps as found at import, in one query: session id → rep number →
        that rep's top-speed steps in order (a session without reps is absent). What the
        session-scale analysis needs, without reading and segmenting every step again."""
        out: dict[str, dict[int, list[Step]]] = {}
        with self._errors():
            rows = self._db.execute(_SELECT_TOP_SPEED, (_athlete_key(athlete),)).fetchall()
        for session_id, rep, *values in rows:
            out.setdefault(session_id, {}).setdefault(rep, []).append(Step.from_row(dict(zip(STEP_COLUMNS, values))))
        return out

    def reps(self, session_id: str) -> list[dict]:
        """The session's rep table (:data:`~gaitmon.analysis.REP_COLUMNS`), as found at import."""
        with self._errors():
            rows = self._db.execute(_SELECT_REPS, (session_id,)).fetchall()
        return [_row_dict(REP_COLUMNS, row) for row in rows]

    def _open(self) -> None:
        """Check the file is a gaitmon history this code can read (creating it when empty); WAL on."""
        self._db.execute("PRAGMA foreign_keys = ON")
        if self._header() == (0, 0) and not self._db.execute("SELECT 1 FROM sqlite_master").fetchone():
            with self._transaction():
                for statement in _SCHEMA:
                    self._db.execute(statement)
        application_id, version = self._header()
        if application_id != APPLICATION_ID:
            raise InputError(self.path, None, "not a gaitmon history database (another program's SQLite file)")
        if version > SCHEMA_VERSION:
            raise InputError(self.path, None, f"history database layout version {version} is newer than this gaitmon "
                                              f"understands ({SCHEMA_VERSION}); upgrade gaitmon")
        for old in range(version, SCHEMA_VERSION):
            with self._transaction():
                for statement in _MIGRATIONS[old]:
                    self._db.execute(statement)
        self._db.execute("PRAGMA journal_mode = WAL")

    def _header(self) -> tuple[int, int]:
        return (self._db.execute("PRAGMA application_id").fetchone()[0],
                self._db.execute("PRAGMA user_version").fetchone()[0])

    def _insert_rows(self, statement: str, session_id: str, rows: list[tuple]) -> None:
        self._db.executemany(statement, ((session_id, *row) for row in rows))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """All or nothing: committed at the end of the block, rolled back on any exception."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite failures as one-line InputErrors naming the file."""
        try:
            yield
        except sqlite3.OperationalError as error:  # locked, read-only, cannot open, disk full
            raise InputError(self.path, None, f"history database: {error}") from None
        except sqlite3.DatabaseError as error:
            if type(error) is not sqlite3.DatabaseError:  # constraint or programming errors: a bug, not the file
                raise
            raise InputError(self.path, None, f"not a gaitmon history database, or it is corrupted ({error})") from None


class SessionOwnerError(ValueError):
    """A session imported again under another athlete's name: a session belongs to one athlete."""


def saved_calibration(athlete: str, path: Path | None = None) -> Calibration | None:
    """The athlete's newest calibration in the history at ``path`` (default :func:`default_db_path`), the
    one analyses apply; None without an athlete name, without a calibration, or when the history
    does not exist yet (a look-up does not create it).

    Raises
    ------
    gaitmon.errors.InputError
        ``path`` is not a gaitmon history.
    """
    path = Path(path) if path is not None else default_db_path()
    if not _athlete_key(athlete) or not path.exists():
        return None
    with History(path) as history:
        return history.calibration(athlete)


@dataclass(frozen=True)
class SessionOutputs:
    """One session of an athlete's weeks: what ``gaitmon history`` and its page show per session.

    Attributes
    ----------
    record : SessionRecord
        The session as stored.
    label : str
        Its date (UTC), with the time when the athlete has several sessions that day.
    reps : list of Rep
        Its reps with their top-speed steps as stored at import (the session-scale flag's unit).
    medians : dict
        leg → output (:data:`~gaitmon.analysis.balance.SWING` in rad/s, :data:`~gaitmon.analysis.balance.PUSH`
        in body weights) → median over that leg's top-speed steps of all its reps (NaN without any).
    change_pct : dict
        leg → output → % change of the median from the baseline's (NaN on the baseline itself, and
        where either is missing).
    flags : list of Flag
        The session-scale flags raised after this session.
    """

    record: SessionRecord
    label: str
    reps: list[Rep]
    medians: dict[str, dict[str, float]]
    change_pct: dict[str, dict[str, float]]
    flags: list[Flag]


@dataclass(frozen=True)
class AthleteWeeks:
    """An athlete's sessions, oldest first, with the session-scale strength-balance flags.

    ``baseline`` is the label of the first session with reps (each leg's outputs are in % of its
    medians there; None without reps); ``flags`` all session-scale flags, in the order raised;
    ``with_reps`` the number of sessions with reps; ``min_sessions`` how many of those the flag needs
    before it decides anything.
    """

    athlete: str
    sessions: list[SessionOutputs]
    baseline: str | None
    flags: list[Flag]
    with_reps: int
    min_sessions: int = MIN_SESSIONS


def athlete_weeks(records: list[SessionRecord], top_speed: dict[str, dict[int, list[Step]]],
                  min_sessions: int = MIN_SESSIONS) -> AthleteWeeks:
    """The per-session numbers and session-scale flags of one athlete's sessions (pure).

    ``records`` as :meth:`History.sessions` lists them (oldest first, at least one); ``top_speed`` as
    :meth:`History.top_speed_steps` gives it.
    """
    labels = _labels(records)
    sessions = [(label, _stored_reps(r.n_reps, top_speed.get(r.session_id, {}))) for label, r in zip(labels, records)]
    with_reps = [(label, reps) for label, reps in sessions if reps]
    # the session-scale flag's baseline: per leg, the medians of the first session's top-speed steps
    base_label, baseline = (with_reps[0][0], leg_medians(top_speed_rows(with_reps[0][1]))) if with_reps else (None, None)
    flags = session_scale_flags(sessions, min_sessions=min_sessions)
    out = []
    for record, (label, reps) in zip(records, sessions):
        medians = leg_medians(top_speed_rows(reps))
        change = {leg: {key: math.nan if label == base_label or baseline is None  # no % on the baseline itself
                        else percent_change(medians[leg][key], baseline[leg][key]) for key in medians[leg]}
                  for leg in medians}
        out.append(SessionOutputs(record, label, reps, medians, change, [f for f in flags if f.session == label]))
    return AthleteWeeks(records[0].athlete, out, base_label, flags, len(with_reps), min_sessions)


def load_athlete_weeks(history: History, athlete: str) -> AthleteWeeks | None:
    """:func:`athlete_weeks` of the athlete's sessions in ``history``; None when the athlete has only
    calibrations.

    Raises
    ------
    gaitmon.errors.InputError
        The athlete has neither sessions nor calibrations in the history.
    """
    records = history.sessions(athlete)
    if not records:
        if not history.calibrations(athlete):
            known = ", ".join(history.athletes()) or "none"
            raise InputError(history.path, None, f"no sessions for athlete {athlete!r}; known: {known}")
        return None
    return athlete_weeks(records, history.top_speed_steps(athlete))


def history_text(history: History, athlete: str) -> str:
    """What ``gaitmon history ATHLETE`` prints: the athlete's sessions and session-scale flags.

    One row per session, oldest first: date, reps, and per leg the median top-speed swing-side
    output (rad/s) and push-side output (body weights) over the top-speed steps of all its reps,
    with the % change from the first session with reps (the baseline of the session-scale flag).
    Then the session-scale strength-balance flags (from the top-speed steps of each rep, as stored at
    import: :meth:`History.top_speed_steps`), each with
    its sentence, or why there are none; then the athlete's calibrations (:func:`calibrations_lines`).
    The numbers: :func:`athlete_weeks`.

    Raises
    ------
    gaitmon.errors.InputError
        The athlete has neither sessions nor calibrations in the history.
    """
    weeks = load_athlete_weeks(history, athlete)
    calibrations = history.calibrations(athlete)
    if weeks is None:
        return "\n".join([f"{calibrations[0].athlete}: no sessions in {history.path}", "",
                          *calibrations_lines(calibrations)])
    header = ["date (UTC)", "reps"] + [f"{leg} {what}" for leg in ("left", "right")
                                       for what in ("swing rad/s", "push BW")]
    table = [[s.label, str(len(s.reps))] + [_cell(s.medians[leg][key], s.change_pct[leg][key])
                                             for leg, key in _LEG_OUTPUTS] for s in weeks.sessions]
    n = len(weeks.sessions)
    lines = [f"{weeks.athlete}: {n} session{'s' * (n != 1)} in {history.path}"]
    if weeks.baseline is not None:
        lines.append(f"Per leg, median over the top-speed steps of all reps; % change vs {weeks.baseline} "
                     "(the first session with reps).")
    lines += ["", *_format_table(header, table), ""]

    lines.append("Session-scale strength-balance flags (docs/strength-balance.md):")
    lines += [f"  {'FLAG' if flag.alarm else 'note'} after {flag.session}: {flag.message}" for flag in weeks.flags]
    if weeks.with_reps < weeks.min_sessions:
        lines.append(f"  none yet: {flags_pending(weeks)}")
    elif not weeks.flags:
        lines.append("  none raised.")
    if calibrations:
        lines += ["", *calibrations_lines(calibrations)]
    return "\n".join(lines)


def flags_pending(weeks: AthleteWeeks) -> str:
    """Why no session-scale flag can be decided yet (fewer sessions with reps than it needs)."""
    n = weeks.with_reps
    return (f"the session-scale flag needs at least {weeks.min_sessions} sessions with reps "
            f"(there {'is' if n == 1 else 'are'} {n}).")


def _stored_reps(n_reps: int, top_speed: dict[int, list[Step]]) -> list[Rep]:
    """A session's reps as the history keeps them for the session scale: numbers and top-speed steps
    (the reps' other steps are not read)."""
    return [Rep(number, steps=top_speed.get(number, []), top_speed=top_speed.get(number, []))
            for number in range(1, n_reps + 1)]


def calibrations_lines(calibrations: list[Calibration]) -> list[str]:
    """The calibrations part of ``gaitmon history``: one line each, newest (the one in use) first,
    with its date (UTC), matched steps, source and corrections."""
    lines = ["Calibrations (newest first; the newest corrects contact and flight times in analyses of this "
             "athlete unless --no-calibration):"]
    for i, calibration in enumerate(calibrations):
        date = calibration.created_at[:16].replace("T", " ")
        lines.append(f"  {'in use' if i == 0 else '      '}  {date}  n = {calibration.n:<4d}  {calibration.source}: "
                     f"{calibration.corrections()}")
    return lines


#: The table's columns after date and reps, in order: (leg, output).
_LEG_OUTPUTS = tuple((leg, key) for leg in ("left", "right") for key in (SWING, PUSH))


def _cell(value: float, change: float) -> str:
    """``value`` and, when known, its % change from the baseline."""
    if not math.isfinite(value):
        return "—"
    return f"{value:.2f}" if math.isnan(change) else f"{value:.2f} ({change:+.1f} %)"


def _format_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Aligned columns; the second (a count) to the right, the others to the left."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.rjust(width) if i == 1 else cell.ljust(width)
                      for i, (cell, width) in enumerate(zip(row, widths))).rstrip()
            for row in [header, *rows]]


def _labels(records: list[SessionRecord]) -> list[str]:
    """Session dates (UTC), with the time added where one day has several sessions."""
    days = [r.started_at[:10] for r in records]
    return [day if days.count(day) == 1 else f"{day} {r.started_at[11:16]}" for day, r in zip(days, records)]


def _athlete_key(name: str) -> str:
    return name.strip().casefold()


def _utc_iso(text: str) -> str:
    """ISO 8601 time as UTC with microseconds (a time without offset is taken as UTC)."""
    moment = _dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")


def _step_values(steps: list[Step], reps: list[Rep]) -> list[tuple]:
    """Rows to store: (position, STEP_COLUMNS values..., rep, phase)."""
    where = {id(step): (rep.number, phase) for rep in reps for phase in PHASES for step in getattr(rep, phase)}
    return [(i, *(_stored(c, value) for c, value in step.as_row().items()), *where.get(id(step), (None, None)))
            for i, step in enumerate(steps)]


def _stored(column: str, value):
    """A value as SQLite keeps it: text as str, numbers as float (NaN as None, which SQLite would make NULL)."""
    if column in _TEXT_COLUMNS:
        return str(value)
    value = float(value)
    return None if math.isnan(value) else value


def _row_dict(columns: tuple[str, ...], row: tuple) -> dict:
    out = {}
    for column, value in zip(columns, row):
        if column not in _TEXT_COLUMNS and column not in _INT_COLUMNS and value is None:
            value = math.nan
        out[column] = value
    return out
