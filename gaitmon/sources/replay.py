"""Replay a recorded session: the journal's calls fed again, in order, into a fresh live session.

Every record becomes the sink call the recorder journalled (``on_configured``, ``on_data``,
``on_disconnected``, ``on_state``) with its recorded session-clock time, so the decoders, the timing
layer, the core and the analysis run exactly as they did live and give the same events and steps.
The recorded times *are* the clock: ``speed=None`` replays as fast as the CPU allows, ``speed=N``
paces the calls at N× the recorded rate on the wall clock (for watching).

As fast as possible (and nobody watching the session clock), the replay is **batched**
(:func:`feed_batched`): the notifications of each sensor between two other records are decoded per
stream in one call and timed together (``LiveSession.on_data_batch``), which gives the same samples,
counts and events as feeding them one by one (within float rounding of the clock fit) at a fraction
of the cost. Paced replays (the dashboard) go one notification at a time (:func:`feed`).

Damage (a torn or corrupted record, data of a channel whose declaration was lost, an unreadable
sensor setup) is skipped and listed in :attr:`ReplayedSession.problems`; everything intact is used.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitmon.errors import InputError
from gaitmon.stream.live import LiveSession
from gaitmon.session import journal
from gaitmon.session.folder import JOURNAL_FILE, read_meta
from gaitmon.session.meta import MAX_RATE_HZ, SessionMeta
from gaitmon.session.spool import SampleSpool
from gaitmon.sensors import FAMILIES, DeviceInfo, StreamSetup

#: ``progress(fraction_done, session_time_s)`` is called about this often (wall-clock seconds).
PROGRESS_EVERY_S = 2.0


@dataclass
class ReplayedSession:
    """A replayed session: its metadata, the live session it rebuilt, its samples and traces (on
    disk, see :mod:`gaitmon.session.spool`) and what was wrong."""

    folder: Path
    meta: SessionMeta
    live: LiveSession
    store: SampleSpool
    scan: journal.JournalScan
    marks: list[tuple[float, dict]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line on what the journal held and how much of it was readable."""
        return self.scan.describe()


def feed(records: Iterable[journal.Record], sink, scan: journal.JournalScan, problems: list[str],
         marks: list[tuple[float, dict]], pace: Callable[[journal.Record], None] | None = None) -> None:
    """Make the sink calls the records stand for; note records that cannot be used in ``problems``."""
    channels: dict[int, tuple[str, str]] = {}
    orphans = 0
    for record in records:
        if pace is not None:
            pace(record)
        kind = record.kind
        if kind == journal.DATA:
            target = channels.get(record.channel)
            if target is None:
                orphans += 1
                continue
            sink.on_data(target[0], target[1], record.t, record.payload)
            continue
        content = record.content
        try:
            if kind == journal.CHANNEL:
                channels[record.channel] = (str(content["role"]), str(content["stream"]))
            elif kind == journal.CONFIGURED:
                sink.on_configured(str(content["role"]), _setup(content["setup"]), record.t)
            elif kind == journal.DISCONNECT:
                sink.on_disconnected(str(content["role"]), record.t, str(content.get("cause", "disconnected")))
            elif kind == journal.STATE:
                sink.on_state(str(content["role"]), str(content["state"]), str(content.get("detail", "")),
                              address=str(content.get("address") or ""), battery_pct=content.get("battery_pct"),
                              device=_device(content.get("device")))
            elif kind == journal.MARK:
                marks.append((record.t, content))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{scan.path}: offset {record.offset}: unusable {journal.KIND_NAMES[kind]} record "
                            f"({type(exc).__name__}: {exc}); skipped")
    if orphans:
        problems.append(f"{scan.path}: {orphans} notification(s) of a channel whose declaration was lost "
                        "in a damaged stretch; skipped")


#: Notifications handed to the live session at once by :func:`feed_batched` (per sensor, a couple of
#: seconds to a minute of data: the core is fed blocks of at least a second, memory stays bounded).
BATCH_RECORDS = 8192


@dataclass(frozen=True)
class _Piece:
    """Consecutive DATA records of one channel (a piece of a :class:`journal.DataRun`): their ranks in
    the journal, receive times (s), file offsets and notifications."""

    channel: int
    rows: np.ndarray
    t: np.ndarray
    offsets: np.ndarray
    payloads: list


def _pieces(items: Iterable[journal.Record | journal.DataRun], limit: int = BATCH_RECORDS):
    """:meth:`journal.JournalFrames.runs` with the DATA between two other records cut into pieces of
    at most ``limit`` records: for each, a list of one :class:`_Piece` per channel; other records as they are."""
    stretch: list[journal.DataRun] = []

    def cut():
        if not stretch:
            return
        first = min(int(run.rows[0]) for run in stretch)
        last = max(int(run.rows[-1]) for run in stretch)
        edges = np.arange(first, last + limit + 1, limit)
        at = [np.searchsorted(run.rows, edges) for run in stretch]
        for w in range(len(edges) - 1):
            piece = []
            for run, bounds in zip(stretch, at):
                rows = run.rows[bounds[w]:bounds[w + 1]]
                if len(rows):
                    frames = run.frames
                    piece.append(_Piece(run.channel, rows, frames.t[rows], frames.offset[rows], frames.payloads(rows)))
            if piece:
                yield piece
        stretch.clear()

    for item in items:
        if isinstance(item, journal.DataRun):
            stretch.append(item)
            continue
        yield from cut()
        yield item
    yield from cut()


def feed_batched(runs: Iterable[journal.Record | journal.DataRun], sink: LiveSession, scan: journal.JournalScan,
                 problems: list[str], marks: list[tuple[float, dict]], pace: Callable | None = None) -> None:
    """:func:`feed` of a framed journal's records (:meth:`journal.JournalFrames.runs`) with the DATA
    between two other records handed over per sensor at once (``sink.on_data_batch``), in pieces of
    at most :data:`BATCH_RECORDS`; ``pace`` sees the other records and the last record of each piece."""
    channels: dict[int, tuple[str, str]] = {}
    orphans = 0

    def flush(stretch: list[_Piece]):
        nonlocal orphans
        if pace is not None:
            last = max(stretch, key=lambda run: run.rows[-1])
            pace(journal.Record(journal.DATA, float(last.t[-1]), int(last.offsets[-1])))
        by_role: dict[str, list] = {}
        for run in stretch:
            target = channels.get(run.channel)
            if target is None:
                orphans += len(run.rows)
                continue
            by_role.setdefault(target[0], []).append((target[1], run.t, run.payloads, run.rows))
        for role, parts in by_role.items():
            sink.on_data_batch(role, parts)

    def others():
        for item in _pieces(runs):
            if isinstance(item, list):
                flush(item)
                continue
            if item.kind == journal.CHANNEL:  # feed() checks it and notes a problem
                try:
                    channels[item.channel] = (str(item.content["role"]), str(item.content["stream"]))
                except (KeyError, TypeError, ValueError):
                    pass
            yield item

    feed(others(), sink, scan, problems, marks, pace)
    if orphans:
        problems.append(f"{scan.path}: {orphans} notification(s) of a channel whose declaration was lost "
                        "in a damaged stretch; skipped")


def _setup(data: dict) -> StreamSetup:
    """The recorded setup, checked: a known family and a sample rate the timing layer can use."""
    setup = StreamSetup(**data)
    if setup.family not in FAMILIES:
        raise ValueError(f"unknown sensor family {setup.family!r}")
    rate = setup.rate_hz
    if not (isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0 < rate <= MAX_RATE_HZ):
        raise ValueError(f"impossible sample rate {rate!r} Hz (expected more than 0, at most {MAX_RATE_HZ:g})")
    if not isinstance(setup.streams, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                      for k, v in setup.streams.items()):
        raise ValueError(f"streams {setup.streams!r} is not a map of stream names to UUIDs")
    if not isinstance(setup.settings, dict):
        raise ValueError(f"settings {setup.settings!r} is not a map")
    return setup


def _device(data) -> DeviceInfo | None:
    """The recorded Device Information strings (null, or absent in older journals: None), checked."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ValueError(f"device {data!r} is not a map")
    known = {name: value for name, value in data.items() if name in DeviceInfo.__dataclass_fields__}
    for name, value in known.items():
        if not isinstance(value, str):
            raise ValueError(f"device {name} {value!r} is not text")
    return DeviceInfo(**known)


class ReplayStopped(Exception):
    """The replay was asked to stop (its ``halt`` event was set)."""


class _Pacer:
    """Sleeps so that records are fed at ``speed``× their recorded pace; reports time and progress.

    ``halt`` (a :class:`threading.Event`) stops the replay between records and cuts a wait short;
    ``on_time(t)`` sees the session time of every timed record.
    """

    def __init__(self, speed: float | None, size: int, progress: Callable[[float, float], None] | None,
                 halt: threading.Event | None = None, on_time: Callable[[float], None] | None = None):
        self.speed, self.size, self.progress = speed, max(size, 1), progress
        self.halt, self.on_time = halt, on_time
        self.t0: float | None = None
        self.wall0 = time.monotonic()
        self.next_report = self.wall0 + PROGRESS_EVERY_S

    def __call__(self, record: journal.Record) -> None:
        if self.halt is not None and self.halt.is_set():
            raise ReplayStopped
        if record.t != record.t:  # channel declarations carry no time
            return
        if self.t0 is None:
            self.t0 = record.t
        now = time.monotonic()
        if self.speed is not None:
            due = self.wall0 + (record.t - self.t0) / self.speed
            if due > now:
                self._sleep(due - now)
                now = due
        if self.on_time is not None:
            self.on_time(record.t)
        if self.progress is not None and now >= self.next_report:
            self.next_report = now + PROGRESS_EVERY_S
            self.progress(record.offset / self.size, record.t)

    def _sleep(self, seconds: float) -> None:
        if self.halt is None:
            time.sleep(seconds)
        elif self.halt.wait(seconds):
            raise ReplayStopped


def replay_session(folder: Path, speed: float | None = None, live: LiveSession | None = None,
                   progress: Callable[[float, float], None] | None = None, keep_samples: bool = True,
                   halt: threading.Event | None = None, spool_dir: Path | None = None,
                   on_time: Callable[[float, list[tuple[float, dict]]], None] | None = None,
                   batched: bool | None = None) -> ReplayedSession:
    """Replay a session folder into ``live`` (a new :class:`LiveSession` when None).

    Parameters
    ----------
    folder : Path
        A session folder (``session.json`` + ``journal.gmj``).
    speed : float, optional
        Pace as a multiple of real time; None: as fast as possible.
    progress : callable, optional
        ``progress(fraction_of_file_done, session_time_s)`` every couple of seconds.
    keep_samples : bool
        Keep every decoded sample and the projected traces in :attr:`ReplayedSession.store`, on
        disk (it becomes the session's block listener, and its projection listener in front of
        any already there); False leaves ``live``'s own listener in place and the store empty.
        RAM does not grow with the recording's length either way.
    halt : threading.Event, optional
        Set it to stop the replay early; what was fed so far is finished and returned.
    on_time : callable, optional
        ``on_time(session_time_s, marks_so_far)`` for every timed record (e.g. a view's clock).
    spool_dir : Path, optional
        Where the store's temporary files go (default: the session folder when it is writable,
        else the system's temporary folder).
    batched : bool, optional
        Hand the notifications over in batches (:func:`feed_batched`) or one by one (:func:`feed`);
        default: batched when nobody watches the pace (``speed`` and ``on_time`` None).

    Raises
    ------
    InputError
        Not a session folder, no journal, or the journal is not a gaitmon journal.
    """
    folder = Path(folder)
    meta = read_meta(folder)
    path = folder / JOURNAL_FILE
    if not path.exists():
        raise InputError(folder, None, f"session has no {JOURNAL_FILE} (nothing was recorded)")
    live = live if live is not None else LiveSession(meta.athlete, meta.placement)
    if spool_dir is None:
        spool_dir = folder if os.access(folder, os.W_OK) else None
    store = SampleSpool(spool_dir, forward=live.projection_listener)
    if keep_samples:
        live.block_listener = store
        live.projection_listener = store.projection
    scan = journal.JournalScan(path)
    session = ReplayedSession(folder, meta, live, store, scan)
    tick = None if on_time is None else (lambda t: on_time(t, session.marks))
    try:
        pacer = _Pacer(speed, path.stat().st_size, progress, halt, tick)
        if batched is None:
            batched = speed is None and on_time is None
        if batched:
            feed_batched(journal.read_frames(path, scan).runs(), live, scan, session.problems, session.marks, pacer)
        else:
            feed(journal.iter_records(path, scan), live, scan, session.problems, session.marks, pacer)
    except ReplayStopped:
        pass
    except journal.JournalFormatError as exc:
        raise InputError(path, "offset 0", str(exc).split(": ", 1)[-1]) from None
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    live.finish()
    if scan.damage:
        session.problems.insert(0, scan.describe())
    return session
