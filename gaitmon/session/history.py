"""The athlete history: every imported session of every athlete, in an embedded SQLite file (the
default) or a shared PostgreSQL database (:mod:`gaitmon.session.history_store`: the two stores and
the tables, written once in SQL both accept).

What is kept per session: its metadata (:class:`~gaitmon.session.meta.SessionMeta`), its step
table (:data:`gaitmon.analysis.steps.STEP_COLUMNS`, each step with the rep and phase it belongs to) and its
rep table (:data:`gaitmon.analysis.REP_COLUMNS`), so the session-scale strength-balance flag can be
re-run over an athlete's weeks without the session folders. Steps are stored as detected, never
calibrated. Per athlete it also keeps the calibrations ``gaitmon validate --save-calibration`` measured
(:class:`~gaitmon.analysis.calibration.Calibration`: one row per metric and band); the newest is the
one later analyses apply (:func:`saved_calibration`).

Results stored at import
------------------------
``gaitmon history`` (:func:`history_text`) reads no step: each import also stores the session's
:class:`SessionResults` (per leg, the median top-speed outputs over all its reps, and those
top-speed steps' outputs as one binary column) and the session-scale assessment after it
(:class:`~gaitmon.analysis.flags.Assessment` per side), keyed by a hash of the sessions it depends
on (the first session with reps, the window's sessions and their position, the gaitmon version
that made it). An import redoes the
athlete's assessments whose sessions changed (a session dated before others, a re-analysis, a
session moved to another athlete); one found out of date when read is made again there. Either
way the text is bit for bit what re-segmenting every stored step table gives.

The database
------------
``$GAITMON_DB`` (a path or a ``postgresql://`` URI) or ``default_db_path()`` unless given:
``$GAITMON_HOME/history.sqlite`` when that variable is set, otherwise the platform's per-user data
folder (:func:`default_data_dir`). It is marked as gaitmon's and carries its layout version
(:data:`~gaitmon.session.history_store.SCHEMA_VERSION`); a database written by a newer gaitmon is
refused rather than misread, and one of an older layout is brought up to date when opened
(:data:`_MIGRATIONS`, one transaction per version). Each import is one transaction, one writer at a
time: a crash or an error half-way leaves the database as it was before the import.

Importing is idempotent: the key is ``session_id``, and a content hash of everything stored for the
session tells a repeat import ("unchanged", nothing written) from a re-analysed session ("updated",
its rows replaced). Athletes are matched by name case-insensitively, ignoring surrounding white
space; the name is shown as first imported.

NaN values (a step metric that could not be formed) are stored as SQL NULL and read back as NaN.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from gaitmon._version import __version__
from gaitmon.analysis import REP_COLUMNS, Flag, Rep, segment_reps
from gaitmon.analysis.balance import LEGS, PUSH, SWING, LegOutputs, percent_change, top_speed_rows
from gaitmon.analysis.calibration import Calibration, CalibrationEntry
from gaitmon.analysis.flags import SESSION_WINDOW, Assessment, session_assessments, session_flags
from gaitmon.analysis.trends import Trend
from gaitmon.errors import InputError
from gaitmon.session.history_store import (CALIBRATION_ORDER, CALIBRATIONS_TABLE, SESSION_ASSESSMENTS_TABLE,
                                           SESSION_RESULTS_TABLE, Store, default_location, is_postgres, open_store)
from gaitmon.session.history_store import APPLICATION_ID as APPLICATION_ID, SCHEMA_VERSION as SCHEMA_VERSION
from gaitmon.session.meta import SensorInfo, SessionMeta, utc_now_iso
from gaitmon.analysis.steps import STEP_COLUMNS, Step

#: Sessions with reps the session-scale flag needs before it decides anything.
MIN_SESSIONS = 4

PHASES = ("acceleration", "top_speed", "deceleration")


def _fill_session_results(store: Store) -> None:
    """Migration to version 3: each stored session's results (:data:`SESSION_RESULTS_TABLE`) from its
    stored top-speed steps, as an import finds them."""
    for (session_id,) in store.query("SELECT session_id FROM sessions"):
        rows = store.query(_SELECT_SESSION_TOP_SPEED, (session_id,))
        outputs = LegOutputs(np.array([side == "right" for side, _, _ in rows if side in LEGS], bool),
                             *(np.array([_nan(row[k]) for row in rows if row[0] in LEGS], float) for k in (1, 2)))
        store.execute(_INSERT_SESSION_RESULTS, (session_id, *_session_results(outputs)))
    for (athlete_key,) in store.query("SELECT key FROM athletes"):
        _assess_athlete(store, athlete_key)


#: layout version → what brings a history of that version to the next one: SQL statements, or functions
#: of the :class:`~gaitmon.session.history_store.Store` (one transaction per version). Layouts before 3
#: exist only as SQLite files (their steps may use ``rowid``).
_MIGRATIONS: dict[int, tuple] = {
    1: (CALIBRATIONS_TABLE,),
    2: (CALIBRATION_ORDER, "UPDATE calibrations SET entry = rowid", SESSION_RESULTS_TABLE, SESSION_ASSESSMENTS_TABLE,
        _fill_session_results),
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
_SELECT_REPS = (f"SELECT {', '.join(REP_COLUMNS)} FROM reps WHERE session_id = ? "
                "ORDER BY rep, CASE side WHEN 'left' THEN 0 WHEN 'right' THEN 1 ELSE 2 END")  # as table_rows()
_SESSION_FIELDS = ("session_id", "athlete", "started_at", "placement", "source", "source_path", "software_version",
                   "sensors", "ended_at", "duration_s", "notes", "n_steps", "n_reps", "content_hash", "imported_at")
_INSERT_SESSION = (f"INSERT INTO sessions ({', '.join(_SESSION_FIELDS)}) "
                   f"VALUES ({', '.join('?' * len(_SESSION_FIELDS))})")
_SELECT_SESSIONS = (f"SELECT {', '.join('s.' + f for f in _SESSION_FIELDS)}, a.name FROM sessions s "
                    "JOIN athletes a ON a.key = s.athlete WHERE s.athlete = ? ORDER BY s.started_at, s.session_id")

_CALIBRATION_FIELDS = ("metric", "band", "bias_s", "sd_s", "n")
_INSERT_CALIBRATION = (f"INSERT INTO calibrations (athlete, created_at, source, {', '.join(_CALIBRATION_FIELDS)}, "
                       f"entry) VALUES ({', '.join('?' * (len(_CALIBRATION_FIELDS) + 4))})")
_SELECT_CALIBRATIONS = (f"SELECT c.created_at, c.source, {', '.join('c.' + f for f in _CALIBRATION_FIELDS)}, a.name "
                        "FROM calibrations c JOIN athletes a ON a.key = c.athlete WHERE c.athlete = ? "
                        "ORDER BY c.created_at DESC, c.entry")
#: Athletes with neither sessions nor calibrations are forgotten.
_FORGET_ATHLETES = ("DELETE FROM athletes WHERE key NOT IN (SELECT athlete FROM sessions) "
                    "AND key NOT IN (SELECT athlete FROM calibrations)")

_INSERT_ATHLETE = "INSERT INTO athletes (key, name) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
_SELECT_SESSION_TOP_SPEED = ("SELECT side, swing_peak_rad_s, push_force_bw FROM steps "
                             "WHERE session_id = ? AND phase = 'top_speed' ORDER BY rep, step")
_RESULT_FIELDS = ("left_swing_rad_s", "left_push_bw", "right_swing_rad_s", "right_push_bw", "top_speed")
_INSERT_SESSION_RESULTS = (f"INSERT INTO session_results (session_id, {', '.join(_RESULT_FIELDS)}) "
                           f"VALUES ({', '.join('?' * (len(_RESULT_FIELDS) + 1))})")
_SELECT_SESSION_RESULTS = (f"SELECT r.session_id, {', '.join('r.' + f for f in _RESULT_FIELDS)}, r.assessed "
                           "FROM session_results r JOIN sessions s ON s.session_id = r.session_id WHERE s.athlete = ?")
_SELECT_RESULTS_TO_ASSESS = ("SELECT s.session_id, s.content_hash, r.assessed, r.top_speed FROM sessions s "
                             "JOIN session_results r ON r.session_id = s.session_id "
                             "WHERE s.athlete = ? AND s.n_reps > 0 ORDER BY s.started_at, s.session_id")
_ASSESSMENT_FIELDS = ("side", *(f"{t}_{f}" for t in ("swing", "push", "balance")
                                for f in ("slope", "low", "high", "n", "confidence")), "swing_swc", "push_swc")
_INSERT_ASSESSMENT = (f"INSERT INTO session_assessments (session_id, {', '.join(_ASSESSMENT_FIELDS)}) "
                      f"VALUES ({', '.join('?' * (len(_ASSESSMENT_FIELDS) + 1))})")
_SELECT_ASSESSMENTS = (f"SELECT a.session_id, {', '.join('a.' + f for f in _ASSESSMENT_FIELDS)} "
                       "FROM session_assessments a JOIN sessions s ON s.session_id = a.session_id WHERE s.athlete = ? "
                       "ORDER BY a.session_id, CASE a.side WHEN 'left' THEN 0 WHEN 'right' THEN 1 ELSE 2 END")

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


@dataclass(frozen=True)
class SessionResults:
    """What the history keeps of a session for ``gaitmon history``, found at import.

    Attributes
    ----------
    medians : dict
        leg → output (``swing_peak_rad_s`` rad/s, ``push_force_bw`` body weights) → median over the
        top-speed steps of all the session's reps (NaN without any):
        :func:`~gaitmon.analysis.balance.leg_medians`.
    top_speed : LegOutputs
        Those steps' outputs in order, what the session-scale flag takes of the session.
    """

    medians: dict[str, dict[str, float]]
    top_speed: LegOutputs
    assessed: str | None = None
    assessment: tuple[Assessment, ...] = ()


def _assessment_keys(sessions: list[tuple[str, str]]) -> dict[int, str]:
    """Position k (1-based) among an athlete's sessions with reps, oldest first, given as
    (session id, content hash) → SHA-256 of what the session-scale assessment after session k
    depends on: the baseline session, the window's sessions, k (the sessions' x), and the gaitmon
    version that assessed it (a newer one may assess differently)."""
    return {k: hashlib.sha256(json.dumps([__version__, SESSION_WINDOW, k, sessions[0],
                                          sessions[max(0, k - SESSION_WINDOW):k]]).encode()).hexdigest()
            for k in range(MIN_SESSIONS, len(sessions) + 1)}


class History:
    """The athlete history database; use as a context manager (or call :meth:`close`).

    Parameters
    ----------
    path : Path or str, optional
        The database: a SQLite file, created with its parent folders if missing, or a PostgreSQL
        URI (``postgresql://…``, :mod:`gaitmon.session.history_store`). Default ``$GAITMON_DB`` when
        set, else :func:`default_db_path`.

    Attributes
    ----------
    path : Path or str
        The SQLite file, or the PostgreSQL URI (password hidden).

    Raises
    ------
    gaitmon.errors.InputError
        The database is not a gaitmon history (not SQLite, corrupted, another program's database),
        was written by a newer gaitmon, or cannot be opened; any later database failure too.
    """

    def __init__(self, path: Path | str | None = None):
        if path is None:
            path = default_location() or default_db_path()
        self._store = open_store(path)
        self.path = self._store.location
        try:
            with self._errors():
                self._store.prepare(_MIGRATIONS)
        except BaseException:
            self._store.close()
            raise

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Close the database."""
        self._store.close()

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
        results = _session_results(LegOutputs.of_steps(top_speed_rows(reps)))
        step_values = _step_values(steps, reps)
        rep_values = [tuple(row[c] for c in REP_COLUMNS) for rep in reps for row in rep.table_rows()]
        sensors = json.dumps({role: asdict(info) for role, info in meta.sensors.items()}, sort_keys=True)
        stored_meta = {**meta.to_json(), "athlete": meta.athlete.strip(), "started_at": started_at}
        digest = hashlib.sha256(json.dumps([stored_meta, step_values, rep_values], sort_keys=True).encode()).hexdigest()
        with self._errors(), self._transaction():
            old = next(iter(self._store.query("SELECT s.content_hash, s.athlete, a.name FROM sessions s JOIN athletes a "
                                              "ON a.key = s.athlete WHERE s.session_id = ?", (meta.session_id,))), None)
            if old is not None and old[1] != key and not reassign:
                raise SessionOwnerError(f"this session is already in the history as {old[2]}'s "
                                        f"(session {meta.session_id}); not moved to {meta.athlete.strip()} "
                                        f"(--reassign moves it, if it was filed under the wrong athlete)")
            if old is not None and old[0] == digest:
                return "unchanged"
            self._store.execute("DELETE FROM sessions WHERE session_id = ?", (meta.session_id,))  # cascades
            self._store.execute(_INSERT_ATHLETE, (key, meta.athlete.strip()))
            self._store.execute(_INSERT_SESSION, (
                meta.session_id, key, started_at, meta.placement, meta.source, str(source_path),
                meta.software_version, sensors, meta.ended_at, meta.duration_s, meta.notes, len(steps), len(reps),
                digest, utc_now_iso()))
            self._store.execute(_INSERT_SESSION_RESULTS, (meta.session_id, *results))
            self._insert_rows(_INSERT_REP, meta.session_id, rep_values)
            self._insert_rows(_INSERT_STEP, meta.session_id, step_values)
            self._assess(key)
            if old is not None and old[1] != key:
                self._assess(old[1])  # the session moved away from that athlete
            self._store.execute(_FORGET_ATHLETES)
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
            self._store.execute(_INSERT_ATHLETE, (key, calibration.athlete.strip()))
            self._store.execute("DELETE FROM calibrations WHERE athlete = ? AND created_at = ?", (key, created_at))
            self._store.executemany(_INSERT_CALIBRATION, (
                (key, created_at, calibration.source, e.metric, e.band, float(e.bias_s),
                 None if math.isnan(e.sd_s) else float(e.sd_s), int(e.n), i)
                for i, e in enumerate(calibration.entries)))
        return created_at

    def calibrations(self, athlete: str) -> list[Calibration]:
        """The athlete's calibrations (name matched case-insensitively), newest first; [] if none."""
        with self._errors():
            rows = self._store.query(_SELECT_CALIBRATIONS, (_athlete_key(athlete),))
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
            return [name for (name,) in self._store.query("SELECT name FROM athletes ORDER BY key")]

    def sessions(self, athlete: str) -> list[SessionRecord]:
        """The athlete's sessions (name matched case-insensitively), oldest first; [] if unknown."""
        with self._errors():
            rows = self._store.query(_SELECT_SESSIONS, (_athlete_key(athlete),))
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
            rows = self._store.query(_SELECT_STEPS, (session_id,))
        return [Step.from_row(dict(zip(STEP_COLUMNS, row))) for row in rows]

    def top_speed_steps(self, athlete: str) -> dict[str, dict[int, list[Step]]]:
        """The athlete's top-speed steps as found at import, in one query: session id → rep number →
        that rep's top-speed steps in order (a session without reps is absent), without reading and
        segmenting every step again. (``gaitmon history`` needs less: :meth:`session_results`.)"""
        out: dict[str, dict[int, list[Step]]] = {}
        with self._errors():
            rows = self._store.query(_SELECT_TOP_SPEED, (_athlete_key(athlete),))
        for session_id, rep, *values in rows:
            out.setdefault(session_id, {}).setdefault(rep, []).append(Step.from_row(dict(zip(STEP_COLUMNS, values))))
        return out

    def reps(self, session_id: str) -> list[dict]:
        """The session's rep table (:data:`~gaitmon.analysis.REP_COLUMNS`), as found at import."""
        with self._errors():
            rows = self._store.query(_SELECT_REPS, (session_id,))
        return [_row_dict(REP_COLUMNS, row) for row in rows]

    def session_results(self, athlete: str) -> dict[str, SessionResults]:
        """The athlete's per-session results as found at import, in one query: session id →
        :class:`SessionResults` (every session of the athlete), with the session-scale assessments
        stored at import. What ``gaitmon history`` shows and the session-scale flag takes, without
        reading any step."""
        with self._errors():
            rows = self._store.query(_SELECT_SESSION_RESULTS, (_athlete_key(athlete),))
            assessed: dict[str, list[Assessment]] = {}
            for session_id, side, *values in self._store.query(_SELECT_ASSESSMENTS, (_athlete_key(athlete),)):
                trends = [Trend(*(_nan(v) for v in values[i:i + 3]), int(values[i + 3]), values[i + 4])
                          for i in (0, 5, 10)]
                assessed.setdefault(session_id, []).append(Assessment(side, *trends, *map(_nan, values[15:])))
        out = {}
        for session_id, left_swing, left_push, right_swing, right_push, top_speed, digest in rows:
            out[session_id] = SessionResults(
                {"left": {SWING: _nan(left_swing), PUSH: _nan(left_push)},
                 "right": {SWING: _nan(right_swing), PUSH: _nan(right_push)}},
                LegOutputs(*_triples(top_speed)), digest, tuple(assessed.get(session_id, ())))
        return out

    def _assess(self, athlete_key: str) -> None:
        """Store the athlete's session-scale assessments that are missing or out of date (the sessions
        they depend on changed); inside the import's transaction. An import of the athlete's newest
        session makes one; one dated before others redoes those after it."""
        _assess_athlete(self._store, athlete_key)

    def _insert_rows(self, statement: str, session_id: str, rows: list[tuple]) -> None:
        self._store.executemany(statement, ((session_id, *row) for row in rows))

    def _transaction(self):
        """All or nothing, one writer at a time: committed at the end of the block, rolled back on any
        exception."""
        return self._store.write()

    def _errors(self):
        """Database failures as one-line InputErrors naming the database."""
        return self._store.errors()


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
    if path is None:
        path = default_location() or default_db_path()
    if not _athlete_key(athlete) or not (is_postgres(path) or Path(path).exists()):
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
    top_speed : LegOutputs
        The outputs of its reps' top-speed steps as stored at import (the session-scale flag's unit);
        its number of reps is ``record.n_reps``.
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
    top_speed: LegOutputs
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


def athlete_weeks(records: list[SessionRecord], results: dict[str, SessionResults],
                  min_sessions: int = MIN_SESSIONS) -> AthleteWeeks:
    """The per-session numbers and session-scale flags of one athlete's sessions (pure).

    ``records`` as :meth:`History.sessions` lists them (oldest first, at least one); ``results`` as
    :meth:`History.session_results` gives them (the assessments stored at import are used where
    still current, made here where not).
    """
    labels = _labels(records)
    with_reps = [(label, record) for label, record in zip(labels, records) if record.n_reps]
    # the session-scale flag's baseline: per leg, the medians of the first session's top-speed steps
    base_label, baseline = ((with_reps[0][0], results[with_reps[0][1].session_id].medians) if with_reps
                            else (None, None))
    assessments = _current_assessments([results[r.session_id] for _, r in with_reps], [r for _, r in with_reps])
    flags = session_flags([label for label, _ in with_reps], {k: a for k, a in assessments.items() if k >= min_sessions})
    out = []
    for record, label in zip(records, labels):
        stored = results[record.session_id]
        change = {leg: {key: math.nan if label == base_label or baseline is None  # no % on the baseline itself
                        else percent_change(stored.medians[leg][key], baseline[leg][key]) for key in (SWING, PUSH)}
                  for leg in LEGS}
        out.append(SessionOutputs(record, label, stored.top_speed, stored.medians, change,
                                  [f for f in flags if f.session == label]))
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
    return athlete_weeks(records, history.session_results(athlete))


def history_text(history: History, athlete: str) -> str:
    """What ``gaitmon history ATHLETE`` prints: the athlete's sessions and session-scale flags.

    One row per session, oldest first: date, reps, and per leg the median top-speed swing-side
    output (rad/s) and push-side output (body weights) over the top-speed steps of all its reps,
    with the % change from the first session with reps (the baseline of the session-scale flag).
    Then the session-scale strength-balance flags, each with its sentence, or why there are none;
    then the athlete's calibrations (:func:`calibrations_lines`). The numbers: :func:`athlete_weeks`,
    from the results stored at import (:meth:`History.session_results`); no step is read.

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
    table = [[s.label, str(s.record.n_reps)] + [_cell(s.medians[leg][key], s.change_pct[leg][key])
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


def _current_assessments(results: list[SessionResults], records: list[SessionRecord]) -> dict[int, list[Assessment]]:
    """The session-scale assessments of an athlete's sessions with reps (``results`` and ``records``
    of the same sessions, oldest first): as stored where still current, made here where not."""
    keys = _assessment_keys([(r.session_id, r.content_hash) for r in records])
    out = {k: list(results[k - 1].assessment) for k, key in keys.items() if results[k - 1].assessed == key}
    missing = [k for k in keys if k not in out]
    out.update(session_assessments([r.top_speed for r in results], missing))
    return out


def _assess_athlete(store: Store, athlete_key: str) -> None:
    """Store the athlete's missing or out-of-date session-scale assessments (History._assess)."""
    rows = store.query(_SELECT_RESULTS_TO_ASSESS, (athlete_key,))
    keys = _assessment_keys([(session_id, content_hash) for session_id, content_hash, _, _ in rows])
    stale = [k for k, key in keys.items() if rows[k - 1][2] != key]
    if not stale:
        return
    outputs = [LegOutputs(*_triples(blob)) for _, _, _, blob in rows]
    for k, assessment in session_assessments(outputs, stale).items():
        session_id = rows[k - 1][0]
        store.execute("DELETE FROM session_assessments WHERE session_id = ?", (session_id,))
        store.executemany(_INSERT_ASSESSMENT, [
            (session_id, a.side, *(v for trend in (a.swing, a.push, a.balance) for v in (
                *(_stored_float(x) for x in (trend.slope, trend.low, trend.high)), int(trend.n),
                float(trend.confidence))), _stored_float(a.swing_swc), _stored_float(a.push_swc))
            for a in assessment])
        store.execute("UPDATE session_results SET assessed = ? WHERE session_id = ?", (keys[k], session_id))


def _triples(blob) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A stored top_speed column as LegOutputs' arrays (right, swing, push)."""
    triples = np.frombuffer(bytes(blob), "<f8").reshape(-1, 3)
    return triples[:, 0] == 1.0, triples[:, 1].copy(), triples[:, 2].copy()


def _stored_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _session_results(top_speed: LegOutputs) -> tuple:
    """The session_results values of a session's top-speed steps (NaN medians as NULL)."""
    medians = top_speed.leg_medians()
    triples = np.column_stack([top_speed.right.astype(float), top_speed.swing, top_speed.push]).astype("<f8")
    return (*(None if math.isnan(medians[leg][key]) else float(medians[leg][key]) for leg in LEGS for key in (SWING, PUSH)),
            triples.tobytes())


def _nan(value) -> float:
    """A stored number: NULL read as NaN."""
    return math.nan if value is None else float(value)


def _row_dict(columns: tuple[str, ...], row: tuple) -> dict:
    out = {}
    for column, value in zip(columns, row):
        if column not in _TEXT_COLUMNS and column not in _INT_COLUMNS and value is None:
            value = math.nan
        out[column] = value
    return out
