"""Where the athlete history lives: an embedded SQLite file (the default) or a shared PostgreSQL database.

:class:`~gaitmon.session.history.History` speaks SQL to a :class:`Store`; this module holds the
layout (:data:`SCHEMA`; the migrations of older layouts are History's) and the two stores, which differ only in what SQL cannot
say the same way in both: connecting, where the layout version is kept, how a writer takes its turn,
the parameter style, the binary type, and how a driver's errors become one-line
:class:`~gaitmon.errors.InputError`\\ s. The statements themselves are written once, in SQL both accept
(``?`` parameters, rewritten to ``%s`` for PostgreSQL here; ``ON CONFLICT … DO NOTHING``, never
``INSERT OR REPLACE``; ``DOUBLE PRECISION``, which is 8 bytes in both).

Which store: :func:`open_store` of a location. ``postgresql://…`` (or ``postgres://…``, any libpq URI)
is a PostgreSQL database; anything else is the path of a SQLite file.

- **SQLite** (one laptop, no server): marked as gaitmon's by ``PRAGMA application_id``, its layout
  version in ``PRAGMA user_version``, WAL mode; a writer takes its turn with ``BEGIN IMMEDIATE``.
- **PostgreSQL** (a squad's shared database, several laptops importing at once; needs the optional
  extra ``gaitmon[postgres]``, the ``psycopg`` 3 driver): the layout lives in the connection's
  current schema with the version in the table ``gaitmon_history``. Writers take turns on one
  transaction-scoped advisory lock (an import is a few hundred milliseconds at most), so concurrent
  imports can neither deadlock nor interleave the read-check-write of one session; readers never
  wait (MVCC). A database whose schema holds other tables but not gaitmon's is refused.

Why PostgreSQL and not Parquet + DuckDB for the second store: issue #19 measured a season of a squad
(≈ 6,000 sessions) at ≈ 2.5 GB in SQLite against ≈ 0.32 GB as Parquet with DuckDB queries under 0.1 s,
but what a squad outgrows first is one laptop writing: DuckDB files take one writing process, and
Parquet files are written whole. See the README's history section.
"""

from __future__ import annotations

import abc
import contextlib
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from gaitmon.errors import InputError

#: Layout version of the history this code reads and writes.
SCHEMA_VERSION = 3
#: ``PRAGMA application_id`` of a gaitmon SQLite history, and the key of the PostgreSQL writers' lock:
#: "gait" in ASCII.
APPLICATION_ID = 0x67616974
#: Environment variable naming the history when ``--db`` does not (a path or a ``postgresql://`` URI).
DB_ENV = "GAITMON_DB"

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")

#: Version 2: the athletes' calibrations, one row per metric and band of each.
CALIBRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS calibrations (
        athlete TEXT NOT NULL REFERENCES athletes (key),
        created_at TEXT NOT NULL,       -- ISO 8601 UTC, microseconds: identifies the calibration
        source TEXT NOT NULL,           -- what it was measured against
        metric TEXT NOT NULL,           -- contact or flight
        band TEXT NOT NULL,             -- all, acceleration or top_speed
        bias_s DOUBLE PRECISION NOT NULL, -- gaitmon - reference, s (corrected = raw - bias)
        sd_s DOUBLE PRECISION,          -- NULL when unknown
        n INTEGER NOT NULL,             -- matched steps
        PRIMARY KEY (athlete, created_at, metric, band)
    )"""

#: Version 3: what ``gaitmon history`` shows of a session, found at import.
SESSION_RESULTS_TABLE = """CREATE TABLE IF NOT EXISTS session_results (
        session_id TEXT PRIMARY KEY REFERENCES sessions (session_id) ON DELETE CASCADE,
        left_swing_rad_s DOUBLE PRECISION,  -- per leg, median over the top-speed steps of all reps;
        left_push_bw DOUBLE PRECISION,      -- NULL when the leg has none
        right_swing_rad_s DOUBLE PRECISION,
        right_push_bw DOUBLE PRECISION,
        top_speed {blob} NOT NULL,      -- those steps in order: little-endian float64 triples
                                        -- (1 right / 0 left, swing rad/s, push BW); NaN kept
        assessed TEXT                   -- SHA-256 of what the stored session-scale assessment after
                                        -- this session depends on; NULL: none stored
    )"""

#: Version 3: the session-scale assessment after a session, per side (gaitmon.analysis.flags.Assessment).
SESSION_ASSESSMENTS_TABLE = """CREATE TABLE IF NOT EXISTS session_assessments (
        session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
        side TEXT NOT NULL,             -- left, right or both
        {trends},                       -- swing, push, balance: slope, low, high (% per session), n, confidence
        swing_swc DOUBLE PRECISION, push_swc DOUBLE PRECISION,  -- smallest worthwhile changes, %
        PRIMARY KEY (session_id, side)
    )""".replace("{trends}", ", ".join(f"{t}_{f} {'INTEGER' if f == 'n' else 'DOUBLE PRECISION'}"
                                      for t in ("swing", "push", "balance")
                                      for f in ("slope", "low", "high", "n", "confidence")))

#: Version 3: each calibration entry's position among its calibration's entries.
CALIBRATION_ORDER = "ALTER TABLE calibrations ADD COLUMN entry INTEGER"

#: The layout, in both stores (``{blob}``: the store's binary type).
SCHEMA = (
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
        duration_s DOUBLE PRECISION,
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
        start_s DOUBLE PRECISION, end_s DOUBLE PRECISION,
        n_steps INTEGER, n_acceleration_steps INTEGER, n_top_speed_steps INTEGER,
        swing_peak_rad_s DOUBLE PRECISION, push_force_bw DOUBLE PRECISION, contact_s DOUBLE PRECISION,
        flight_s DOUBLE PRECISION, step_hz DOUBLE PRECISION,
        asymmetry_swing_pct DOUBLE PRECISION, asymmetry_push_pct DOUBLE PRECISION,
        PRIMARY KEY (session_id, rep, side)
    )""",
    """CREATE TABLE IF NOT EXISTS steps (
        session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
        step INTEGER NOT NULL,          -- position in the step table as given
        side TEXT,
        ic_s DOUBLE PRECISION, to_s DOUBLE PRECISION, contact_s DOUBLE PRECISION, flight_s DOUBLE PRECISION,
        step_s DOUBLE PRECISION, step_hz DOUBLE PRECISION, swing_s DOUBLE PRECISION,
        swing_peak_rad_s DOUBLE PRECISION, push_force_bw DOUBLE PRECISION,
        flight_source TEXT,
        rep INTEGER,                    -- NULL outside reps
        phase TEXT,                     -- acceleration, top_speed or deceleration; NULL outside reps
        PRIMARY KEY (session_id, step)
    )""",
    CALIBRATIONS_TABLE,
    CALIBRATION_ORDER,
    SESSION_RESULTS_TABLE,
    SESSION_ASSESSMENTS_TABLE,
)

def default_location() -> str | None:
    """``$GAITMON_DB`` when set (a path or a ``postgresql://`` URI), else None (the default file)."""
    return os.environ.get(DB_ENV) or None


def is_postgres(location: str | Path) -> bool:
    """A PostgreSQL URI rather than a file path."""
    return str(location).startswith(_POSTGRES_SCHEMES)


def open_store(location: str | Path) -> Store:
    """The store at ``location``: a PostgreSQL URI (:class:`PostgresStore`) or a SQLite file path
    (:class:`SqliteStore`, created with its folders when missing)."""
    if is_postgres(location):
        return PostgresStore(str(location))
    return SqliteStore(Path(location))


class Store(abc.ABC):
    """A connection to a history, transactions explicit; subclasses are the dialects.

    Attributes
    ----------
    location : Path or str
        The file, or the PostgreSQL URI without its password: what messages name.
    blob_type : str
        The SQL type of binary values.
    """

    location: Path | str
    blob_type: str

    def query(self, statement: str, params: Iterable = ()) -> list[tuple]:
        """All rows of a query (``?`` parameters)."""
        return self._cursor(statement, params).fetchall()

    def execute(self, statement: str, params: Iterable = ()) -> None:
        self._cursor(statement, params)

    @abc.abstractmethod
    def executemany(self, statement: str, rows: Iterable[Iterable]) -> None:
        """One statement over many rows of parameters."""

    def close(self) -> None:
        self._db.close()

    @abc.abstractmethod
    def write(self) -> contextlib.AbstractContextManager[None]:
        """One writer's transaction: it waits for other writers, commits at the end of the block and
        rolls back on any exception."""

    @abc.abstractmethod
    def errors(self) -> contextlib.AbstractContextManager[None]:
        """The driver's failures as one-line InputErrors naming the location."""

    def prepare(self, migrations: dict[int, tuple], version: int = SCHEMA_VERSION) -> None:
        """Check it is a gaitmon history this code can read, creating the layout when empty and
        bringing an older one up to date (``migrations``, one transaction per version)."""
        if self._empty():  # checked again once the writer's turn is taken: a reader never waits for one
            with self.write():
                if self._empty():
                    for statement in SCHEMA:
                        self.execute(statement.format(blob=self.blob_type))
                    self._mark(version)
        found = self._version()
        if found is None:
            raise InputError(self.location, None, "not a gaitmon history database (another program's database)")
        if found > version:
            raise InputError(self.location, None, f"history database layout version {found} is newer than this "
                                                  f"gaitmon understands ({version}); upgrade gaitmon")
        for old in range(found, version):
            with self.write():
                if self._version() != old:  # another process migrated it meanwhile
                    continue
                for step in migrations[old]:
                    step(self) if callable(step) else self.execute(step.format(blob=self.blob_type))
                self._mark(old + 1)

    @abc.abstractmethod
    def _cursor(self, statement: str, params: Iterable):
        """The executed statement's cursor."""

    @abc.abstractmethod
    def _empty(self) -> bool:
        """Nothing in it yet (a new file, an empty database or schema)."""

    @abc.abstractmethod
    def _version(self) -> int | None:
        """The layout version; None when it is not a gaitmon history."""

    @abc.abstractmethod
    def _mark(self, version: int) -> None:
        """Mark it as a gaitmon history of layout ``version``."""


class SqliteStore(Store):
    """An embedded SQLite file (created with its parent folders when missing), in WAL mode."""

    blob_type = "BLOB"

    def __init__(self, path: Path):
        self.location = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.errors():
            self._db = sqlite3.connect(path, isolation_level=None)  # transactions are explicit
            try:
                self._db.execute("PRAGMA foreign_keys = ON")
            except BaseException:
                self._db.close()
                raise

    def prepare(self, migrations: dict[int, tuple], version: int = SCHEMA_VERSION) -> None:
        super().prepare(migrations, version)
        self._db.execute("PRAGMA journal_mode = WAL")

    def executemany(self, statement: str, rows: Iterable[Iterable]) -> None:
        self._db.executemany(statement, rows)

    def _cursor(self, statement: str, params: Iterable):
        return self._db.execute(statement, tuple(params))

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as error:  # locked, read-only, cannot open, disk full
            raise InputError(self.location, None, f"history database: {error}") from None
        except sqlite3.DatabaseError as error:
            if type(error) is not sqlite3.DatabaseError:  # constraint or programming errors: a bug, not the file
                raise
            raise InputError(self.location, None,
                             f"not a gaitmon history database, or it is corrupted ({error})") from None

    def _empty(self) -> bool:
        return self._header() == (0, 0) and not self._db.execute("SELECT 1 FROM sqlite_master").fetchone()

    def _version(self) -> int | None:
        application_id, version = self._header()
        return version if application_id == APPLICATION_ID else None

    def _mark(self, version: int) -> None:
        # PRAGMA values cannot be bound as parameters; both are integers formatted here.
        self._db.execute(f"PRAGMA application_id = {int(APPLICATION_ID)}")
        self._db.execute(f"PRAGMA user_version = {int(version)}")

    def _header(self) -> tuple[int, int]:
        return (self._db.execute("PRAGMA application_id").fetchone()[0],
                self._db.execute("PRAGMA user_version").fetchone()[0])


class PostgresStore(Store):
    """A PostgreSQL database (libpq URI), the layout in the connection's current schema.

    Needs ``psycopg`` 3 (``pip install 'gaitmon[postgres]'``).
    """

    blob_type = "BYTEA"

    def __init__(self, uri: str):
        self.location = _without_password(uri)
        try:
            import psycopg
        except ImportError:
            raise InputError(self.location, None, "a PostgreSQL history needs the psycopg driver: "
                                                  "pip install 'gaitmon[postgres]'") from None
        self._psycopg = psycopg
        with self.errors():
            self._db = psycopg.connect(uri, autocommit=True)  # transactions are explicit
        self._sql: dict[str, str] = {}

    def executemany(self, statement: str, rows: Iterable[Iterable]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(self._dialect(statement), [tuple(row) for row in rows])

    def _cursor(self, statement: str, params: Iterable):
        return self._db.execute(self._dialect(statement), tuple(params))

    def _dialect(self, statement: str) -> str:
        """``?`` parameters as ``%s``, a ``%`` as ``%%`` (the statements hold no other ``?``)."""
        if statement not in self._sql:
            self._sql[statement] = statement.replace("%", "%%").replace("?", "%s")
        return self._sql[statement]

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        with self._db.transaction():
            # Writers take turns: released at commit or rollback. Readers do not wait.
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (APPLICATION_ID,))
            yield

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        psycopg = self._psycopg
        try:
            yield
        except psycopg.OperationalError as error:  # cannot connect, server gone, disk full
            message = " ".join(str(error).split())
            raise InputError(self.location, None, f"history database: {message}") from None
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction) as error:
            message = " ".join(str(error).split())
            raise InputError(self.location, None, f"history database: {message}") from None

    def _empty(self) -> bool:
        return not self.query("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema()")

    def _version(self) -> int | None:
        if not self.query("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                          "AND table_name = 'gaitmon_history'"):
            return None
        rows = self.query("SELECT version FROM gaitmon_history WHERE application_id = ?", (APPLICATION_ID,))
        return rows[0][0] if rows else None

    def _mark(self, version: int) -> None:
        self.execute("CREATE TABLE IF NOT EXISTS gaitmon_history (application_id INTEGER PRIMARY KEY, "
                     "version INTEGER NOT NULL)")
        self.execute("INSERT INTO gaitmon_history (application_id, version) VALUES (?, ?) "
                     "ON CONFLICT (application_id) DO UPDATE SET version = excluded.version",
                     (APPLICATION_ID, version))


def _without_password(uri: str) -> str:
    """The URI as messages may show it: a password replaced by ``***``."""
    uri = re.sub(r"^(\w+://[^/:@]*):[^/@]*@", r"\1:***@", uri)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", uri)
