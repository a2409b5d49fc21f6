"""One door for every kind of recorded input: a session folder, a BIDS motion export, a samples CSV.

:func:`load` returns the session's metadata, its samples, the analysis, and the problems met on the
way (damaged journal records, bad CSV rows): whatever is intact is used, and the problems say how
much was recovered. A session folder is replayed through the live pipeline (so its events are the
live run's); files without raw packets are analysed from their samples.

A samples CSV may hold accelerations in g and angular velocities in deg/s: :func:`in_si_units`, the
one place where samples are converted, reads the units from the data
(:func:`~gaitmon.stream.pipeline.guess_units`) or takes them as given, and says which it used.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gaitmon.analysis.result import AnalysisResult
from gaitmon.consts import ACC_COLUMNS, GYRO_COLUMNS, STANDARD_GRAVITY
from gaitmon.engine.analyze import analyze_samples, live_result
from gaitmon.errors import InputError
from gaitmon.io import read_imu_csv_recovering
from gaitmon.stream.live import LiveSession
from gaitmon.stream.pipeline import UnitStatistics, guess_units
from gaitmon.session.folder import is_session_folder
from gaitmon.session.meta import SensorInfo, SessionMeta


@dataclass
class LoadedSession:
    """A session read from disk and analysed."""

    path: Path
    meta: SessionMeta
    samples: dict
    result: AnalysisResult
    live: LiveSession | None = None  # set for replayed session folders (gaps, health)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: A samples CSV: the units its values were read in and why (:func:`in_si_units`); else empty.
    units: str = ""
    #: The samples CSV was not in m/s² and rad/s: its values were converted.
    units_converted: bool = False
    #: A samples CSV: the statistics its units were told from, of the samples as converted.
    unit_statistics: UnitStatistics | None = None


def kind_of(path: Path) -> str:
    """``"session"``, ``"bids"`` or ``"csv"``; InputError when it is none of them."""
    path = Path(path)
    if is_session_folder(path):
        return "session"
    if path.is_dir():
        if any((parent / "dataset_description.json").exists() for parent in (path, *path.parents[:2])):
            return "bids"
        raise InputError(path, None, "not a gaitmon session folder (no session.json) nor a BIDS dataset "
                                     "(no dataset_description.json)")
    if not path.exists():
        raise InputError(path, None, "no such file or folder")
    return "csv"


def recordings(path: Path) -> list[Path]:
    """What ``path`` holds, one :func:`load` argument per session: every session folder of a BIDS
    dataset (or of its ``sub-<label>`` folder), else ``path`` itself."""
    from gaitmon.session.bids import bids_sessions

    return bids_sessions(path) if kind_of(path) == "bids" else [Path(path)]


def load(path: Path, athlete: str = "", placement: str = "shank", speed: float | None = None,
         progress: Callable[[float, float], None] | None = None, live: LiveSession | None = None,
         spool_dir: Path | None = None, acc_unit: str | None = None, gyro_unit: str | None = None) -> LoadedSession:
    """Read and analyse ``path`` (see the module docstring). A session folder's samples and traces
    are replayed onto disk (:mod:`gaitmon.session.spool`, in ``spool_dir``, by default the folder
    itself), so its length costs no RAM. ``acc_unit`` (a key of :data:`ACC_UNITS`) and ``gyro_unit``
    (of :data:`GYRO_UNITS`): the units of a samples CSV, None to read them from the data."""
    path = Path(path)
    kind = kind_of(path)
    if kind != "csv" and (acc_unit or gyro_unit):
        raise InputError(path, None, "--acc-unit and --gyro-unit apply to a samples CSV only (session folders "
                                     "and BIDS datasets are in m/s² and rad/s)")
    if kind == "csv":
        return _load_csv(path, athlete, placement, acc_unit, gyro_unit)
    if kind == "session":
        return _load_session(path, speed, progress, live, spool_dir)
    return _load_bids(path)


def _load_session(path: Path, speed, progress, live, spool_dir) -> LoadedSession:
    from gaitmon.sources.replay import replay_session

    replayed = replay_session(path, speed=speed, progress=progress, live=live, spool_dir=spool_dir)
    result = live_result(replayed.live, path)
    result.traces = replayed.store.traces()
    notes = [] if replayed.scan.closed else [
        f"{replayed.scan.path}: the recording was not closed (process stopped or killed); "
        f"everything up to t = {replayed.scan.last_t:.1f} s is intact and used"]
    return LoadedSession(path, replayed.meta, replayed.store.samples(), result, replayed.live,
                         replayed.problems, notes)


def _load_bids(path: Path) -> LoadedSession:
    from gaitmon.session.bids import read_bids

    bids = read_bids(path)
    result = analyze_samples(bids.samples, placement=bids.meta.placement, source=path)
    return LoadedSession(path, bids.meta, bids.samples, result)


def _load_csv(path: Path, athlete: str, placement: str, acc_unit: str | None, gyro_unit: str | None) -> LoadedSession:
    digest = hashing_beside(path)  # on another core while the file is parsed
    samples, recovery = read_imu_csv_recovering(path)
    original = samples
    samples, units, statistics = in_si_units(path, samples, acc_unit, gyro_unit)
    result = analyze_samples(samples, placement=placement, source=path)
    problems = [] if recovery.complete else [recovery.message()]
    return LoadedSession(path, csv_meta(path, athlete, placement, samples, digest()), samples, result,
                         problems=problems, units=units, units_converted=samples is not original,
                         unit_statistics=statistics)


#: Accelerometer units of a samples CSV → factor to m/s².
ACC_UNITS = {"m/s2": 1.0, "g": STANDARD_GRAVITY}
#: Gyro units of a samples CSV → factor to rad/s.
GYRO_UNITS = {"rad/s": 1.0, "deg/s": math.pi / 180.0}
_SPOKEN = {"m/s2": "m/s²", "g": "g", "rad/s": "rad/s", "deg/s": "deg/s"}


def in_si_units(path: Path, samples: dict, acc_unit: str | None = None,
                gyro_unit: str | None = None) -> tuple[dict, str, UnitStatistics | None]:
    """``samples`` in m/s² and rad/s, one sentence saying which units they were read in and why, and
    the :class:`~gaitmon.stream.pipeline.UnitStatistics` of the samples returned.

    A unit given (``acc_unit``, ``gyro_unit``) wins; otherwise it is read from the data
    (:func:`~gaitmon.stream.pipeline.guess_units`). Data whose unit cannot be told raise an
    InputError asking for ``--acc-unit`` / ``--gyro-unit``. ``samples`` itself is returned when no
    conversion was needed; else a new dict whose arrays are scaled in place when writable (a long
    recording is not copied)."""
    statistics = UnitStatistics.of(samples)
    if statistics is None:
        return samples, "", None  # nothing to read units from: the analysis says the file holds no samples
    guess = guess_units(samples, statistics)
    chosen, said, unknown = {}, [], []
    for what, option, given, guessed, evidence, units in (
            ("acceleration", "--acc-unit", acc_unit, guess.acc, guess.acc_evidence, ACC_UNITS),
            ("angular velocity", "--gyro-unit", gyro_unit, guess.gyro, guess.gyro_evidence, GYRO_UNITS)):
        if given is not None and given not in units:
            raise InputError(path, option, f"{given!r}: give {' or '.join(units)}")
        unit = given or guessed
        if unit is None:
            unknown.append(f"{what} ({evidence}): give {option} {'|'.join(units)}")
            continue
        chosen[what] = units[unit]
        how = (f"read from the data: {evidence}" if not given else f"given by {option}" if guessed in (None, given)
               else f"given by {option}, although the data look like {_SPOKEN[guessed]}: {evidence}")
        said.append(f"{what} in {_SPOKEN[unit]} ({how})")
    if unknown:
        raise InputError(path, None, "cannot tell the units of the " + "; nor of the ".join(unknown))
    acc_factor, gyro_factor = chosen["acceleration"], chosen["angular velocity"]
    if acc_factor == gyro_factor == 1.0:
        return samples, f"Units: {said[0]}, {said[1]}", statistics
    converted = {}
    for side, (t, x) in samples.items():
        x = x if x.flags.writeable else x.copy()
        x[:, ACC_COLUMNS] *= acc_factor
        x[:, GYRO_COLUMNS] *= gyro_factor
        converted[side] = (t, x)
    return (converted, f"Units: {said[0]}, {said[1]}; converted to m/s² and rad/s",
            statistics.scaled(acc_factor, gyro_factor))


def hashing_beside(path: Path) -> Callable[[], str | None]:
    """Start :func:`content_hash` of ``path`` in a daemon thread (hashlib and file reads release the
    interpreter lock, so it runs beside the caller's work); the returned function waits for it and
    gives the digest, or None when the file could not be read (the caller's reading says why)."""
    done: list[str] = []

    def run() -> None:
        try:
            done.append(content_hash(path))
        except OSError:
            pass

    thread = threading.Thread(target=run, name="gaitmon-content-hash", daemon=True)
    thread.start()

    def result() -> str | None:
        thread.join()
        return done[0] if done else None

    return result


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes, hexadecimal."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def csv_meta(path: Path, athlete: str, placement: str, samples: dict, digest: str | None = None) -> SessionMeta:
    """Metadata for a samples CSV: the id is the file's content hash (``digest``, else computed:
    :func:`content_hash`), so re-importing is idempotent."""
    digest = digest or content_hash(path)
    started = _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.timezone.utc)
    duration = max((float(t[-1]) for t, _ in samples.values() if len(t)), default=0.0)
    return SessionMeta(athlete=athlete, placement=placement, started_at=started.isoformat(timespec="microseconds"),
                       source="csv", session_id=digest[:32], duration_s=duration,
                       sensors={side: SensorInfo(side) for side in samples}, notes=f"imported from {path.name}")
