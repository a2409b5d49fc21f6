"""The recorder: the sink in front of a live session that puts every call on the session clock,
journals it, and passes it on.

:class:`SessionRecorder` has the sink interface of :class:`gaitmon.stream.live.LiveSession`
(``on_state``, ``on_configured``, ``on_data``, ``on_disconnected``) and forwards each call to it
with the host time moved to the session clock (host time minus the start). What it forwards is
exactly what it journals, so replaying the journal into a fresh ``LiveSession`` repeats the live run
call for call.

Writing is cheap and never blocks: records collect in memory and are handed to the OS every
``flush_interval_s`` of session time (and by :meth:`tick` when no data comes). If the disk fills up
or the folder vanishes, the error is reported at once through ``on_error`` and recording stops;
the live session goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from gaitmon.session import journal
from gaitmon.sensors import FAMILIES, DeviceInfo
from gaitmon.session.folder import JOURNAL_FILE, META_FILE, write_meta
from gaitmon.session.meta import SensorInfo, SessionMeta, utc_now_iso

#: Records are handed to the OS at least this often (session-clock seconds): a kill loses less.
FLUSH_INTERVAL_S = 0.25


class SessionRecorder:
    """Journal every sink call into ``folder`` (None: no recording) and forward it to ``sink``.

    Itself a :class:`gaitmon.stream.sink.Sink`, so acquisition drives it like the session it wraps.

    Parameters
    ----------
    sink : LiveSession
        Where the calls go, with session-clock times.
    folder : Path or None
        New session folder (created; must not hold a session already: then nothing in it is
        touched and recording fails at once). None records nothing.
    meta : SessionMeta
        Written to ``session.json`` now, updated when sensors start and at :meth:`close`.
    clock : callable
        The host clock (``loop.time``), read at start and for state changes.
    on_error : callable
        Called once with a one-line message when recording fails.
    """

    def __init__(self, sink, folder: Path | None, meta: SessionMeta, clock: Callable[[], float],
                 on_error: Callable[[str], None] = print, flush_interval_s: float = FLUSH_INTERVAL_S):
        self.sink = sink
        self.folder = Path(folder) if folder is not None else None
        self.meta = meta
        self.clock = clock
        self.origin = clock()
        meta.started_at = utc_now_iso()  # the session clock's zero, on the wall clock
        self.on_error = on_error
        self.flush_interval_s = flush_interval_s
        self.writer: journal.JournalWriter | None = None
        self.error: str | None = None
        self._channels: dict[tuple[str, str], int] = {}
        self._flushed_t = 0.0
        self._last_t = 0.0
        if self.folder is not None:
            self._open()

    def _open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if (self.folder / META_FILE).exists():  # a session (or its start) is there: leave it alone
                raise FileExistsError
            self.writer = journal.JournalWriter(self.folder / JOURNAL_FILE)  # refuses an existing journal
            write_meta(self.folder, self.meta)
        except FileExistsError:
            self._fail(f"{self.folder}: already holds a recording; not overwriting it (choose another --out)")
            return
        except OSError as exc:
            self._fail(f"{exc.filename or self.folder}: cannot record here: {exc.strerror or exc}")
            return
        self._append(journal.json_record(journal.SESSION, 0.0, {
            "session_id": self.meta.session_id, "started_at": self.meta.started_at}))
        self._flush()

    @property
    def recording(self) -> bool:
        """Journalling now."""
        return self.writer is not None and self.error is None

    @property
    def saved(self) -> bool:
        """A session folder was (or is being) recorded without error."""
        return self.folder is not None and self.error is None

    def now(self) -> float:
        """Session-clock time."""
        return self.clock() - self.origin

    # -- the sink interface --------------------------------------------------------------------------
    def on_state(self, role: str, state: str, detail: str = "", address: str = "", battery_pct: int | None = None,
                 device: DeviceInfo | None = None):
        t = self.now()
        self._append(journal.json_record(journal.STATE, t, {
            "role": role, "state": state, "detail": detail, "address": address, "battery_pct": battery_pct,
            "device": None if device is None else asdict(device)}))
        self.sink.on_state(role, state, detail, address=address, battery_pct=battery_pct, device=device)
        if address:
            self.meta.sensors.setdefault(role, SensorInfo(role)).address = address
        if device is not None:
            self._note_device(role, device)
        self._flush(t)

    def on_configured(self, role: str, setup, host_t: float) -> None:
        t = host_t - self.origin
        self._append(journal.json_record(journal.CONFIGURED, t, {"role": role, "setup": asdict(setup)}))
        self.sink.on_configured(role, setup, t)
        self._note_sensor(role, setup)
        self._flush(t)

    def on_data(self, role: str, stream: str, host_t: float, payload: bytes):
        t = host_t - self.origin
        if self.writer is not None:
            channel = self._channels.get((role, stream))
            if channel is None:
                channel = self._channels[(role, stream)] = len(self._channels)
                self._append(journal.channel_record(channel, role, stream))
            self._append(journal.data_record(channel, t, payload))
        events = self.sink.on_data(role, stream, t, payload)
        if t - self._flushed_t >= self.flush_interval_s:
            self._flush(t)
        self._last_t = max(self._last_t, t)
        return events

    def on_disconnected(self, role: str, host_t: float, cause: str = "disconnected"):
        t = host_t - self.origin
        self._append(journal.json_record(journal.DISCONNECT, t, {"role": role, "cause": cause}))
        events = self.sink.on_disconnected(role, t, cause)
        self._flush(t)
        return events

    # -- coach's marks, time-driven flushing and the end ----------------------------------------------
    def mark(self, content: dict) -> float:
        """Journal a mark (e.g. ``{"kind": "rep", "label": "rep 3"}``) at the current time."""
        t = self.now()
        self._append(journal.json_record(journal.MARK, t, content))
        self._flush(t)
        return t

    def tick(self) -> None:
        """Flush if the interval has passed: call this regularly (it covers silences in the data)."""
        t = self.now()
        if t - self._flushed_t >= self.flush_interval_s:
            self._flush(t)

    def close(self) -> None:
        """Write the CLOSE record, finish ``session.json`` and sync everything to disk."""
        if self.writer is None:
            return
        t = max(self.now(), self._last_t)
        self._append(journal.json_record(journal.CLOSE, t, {}))
        self.writer.close()
        self._check()
        self.meta.ended_at, self.meta.duration_s = utc_now_iso(), t
        if self.error is None:
            self._save_meta()
        self.writer = None

    # -- internals -----------------------------------------------------------------------------------
    def _note_sensor(self, role: str, setup) -> None:
        info = self.meta.sensors.setdefault(role, SensorInfo(role))
        if (info.family, info.rate_hz) != (setup.family, setup.rate_hz):
            info.family, info.rate_hz = setup.family, setup.rate_hz
            info.label = FAMILIES[setup.family].label
            self._save_meta()

    def _note_device(self, role: str, device: DeviceInfo) -> None:
        info = self.meta.sensors.setdefault(role, SensorInfo(role))
        told = asdict(device)
        if any(getattr(info, name) != value for name, value in told.items()):
            for name, value in told.items():
                setattr(info, name, value)
            self._save_meta()

    def _save_meta(self) -> None:
        if self.folder is None or self.error is not None:
            return
        try:
            write_meta(self.folder, self.meta)
        except OSError as exc:
            self._fail(f"{self.folder}: cannot update the session file: {exc.strerror or exc}")

    def _append(self, record: bytes) -> None:
        if self.writer is not None:
            self.writer.append(record)

    def _flush(self, t: float | None = None) -> None:
        if self.writer is None:
            return
        self.writer.flush()
        self._flushed_t = self.now() if t is None else t
        self._check()

    def _check(self) -> None:
        if self.writer is not None and self.writer.error is not None and self.error is None:
            self._fail(self.writer.error)

    def _fail(self, message: str) -> None:
        self.error = message
        self.on_error(f"RECORDING FAILED: {message}. The live view goes on; this session is not being saved.")
