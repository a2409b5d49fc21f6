"""The engine: acquisition, recording and the athletes' models on one asyncio loop.

The dashboard, ``gaitmon demo`` and ``gaitmon live --headless``
(:func:`gaitmon.engine.acquisition.run_live`) all run it. :class:`Engine` runs the loop in a daemon
thread (bleak wants one long-lived loop), or in the calling thread (:meth:`Engine.run_to_end`).
Per athlete, the sensors stream through :func:`gaitmon.sources.ble.acquire` into a
:class:`~gaitmon.session.recorder.SessionRecorder` wrapping a
:class:`~gaitmon.stream.live.LiveSession`, whose projection listener is the athlete's
:class:`~gaitmon.engine.model.DashboardModel` (none headless); every 0.25 s the recorders flush
and the models take in time, health and recording state. The GUI thread only reads snapshots and sends commands
(:meth:`Engine.start_recording`, :meth:`Engine.stop_recording`, :meth:`Engine.mark_rep`,
:meth:`Engine.stop`), which are queued onto the loop and never wait for it. Analyses run in a worker
thread, so neither the stream nor the recording waits on them or on drawing.

Sources: :class:`LiveSource` (real sensors), :class:`EmulatedSource` (a simulated session streamed
by emulated sensors through the same bleak path; with ``realtime=False`` the whole engine runs on a
virtual clock, as fast as the CPU allows, deterministically) and :class:`ReplaySource` (a recorded
session folder, re-fed at a multiple of real time in a thread of its own).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gaitmon.engine.finish import finish_session, status_line
from gaitmon.engine.lsl import CLOSE_LINGER_S, LslPublisher, lsl_problem
from gaitmon.engine.model import AnalysisRun, DashboardModel, RecordingState, Snapshot
from gaitmon.errors import InputError
from gaitmon.sensors import DeviceInfo
from gaitmon.stream.live import LiveSession
from gaitmon.session.folder import default_session_dir, read_meta
from gaitmon.session.history import default_data_dir, saved_calibration
from gaitmon.session.meta import SensorInfo, SessionMeta
from gaitmon.session.recorder import FLUSH_INTERVAL_S, SessionRecorder
from gaitmon.session.spool import SampleSpool
from gaitmon.sources import ble
from gaitmon.sources.replay import replay_session
from gaitmon.sources.virtual import EmulatedPair, emulated_pair
from gaitmon.sources.virtual.clock import run_virtual

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveSource:
    """Real sensors: role (``"left"``/``"right"``) → address or advertised name."""

    sensors: Mapping[str, str]
    rate_hz: float | None = None
    backends: tuple | None = None
    duration_s: float | None = None  # stop after this long (None: until stopped)


@dataclass(frozen=True)
class EmulatedSource:
    """A simulated session streamed by two emulated ``family`` sensors (:func:`emulated_pair`).

    ``realtime=False`` runs the engine on a virtual clock (all its sources must then be so);
    ``sim_options`` are :class:`~gaitmon.sim.SimConfig` overrides, e.g. ``{"n_reps": 2}``.
    """

    family: str = "gaitmon_diy"
    scenario: str = "swing_plateau"
    seed: int = 0
    rate_hz: float | None = None
    realtime: bool = True
    sim_options: Mapping = field(default_factory=dict)
    #: Which legs stream (default: both).
    roles: tuple[str, ...] | None = None
    #: Stop after this long (default: the end of the simulated session).
    duration_s: float | None = None
    #: A pair built already (e.g. with injected faults); the fields above then only choose roles,
    #: rate and duration.
    prepared: EmulatedPair | None = field(default=None, compare=False)

    def pair(self) -> EmulatedPair:
        if self.prepared is not None:
            return self.prepared
        return emulated_pair(self.family, self.scenario, seed=self.seed, rate_hz=self.rate_hz, **self.sim_options)


@dataclass(frozen=True)
class ReplaySource:
    """A recorded session folder, replayed at ``speed`` × real time (None: as fast as possible).

    Published on LSL (the engine's ``lsl``), the replay opens its streams first and waits up to
    ``lsl_wait_s`` (s) for a consumer of each (LabRecorder recording, an inlet) before it begins.
    """

    folder: Path
    speed: float | None = 1.0
    lsl_wait_s: float = 0.0


Source = LiveSource | EmulatedSource | ReplaySource

#: Why a replay as fast as possible is not published on LSL.
NO_PACE = "a replay as fast as possible has no pace to publish on LSL: replay at --speed 1 (real time) or N"


def recording_state(recorder: SessionRecorder) -> RecordingState:
    """What the recording indicator shows for ``recorder``."""
    folder = str(recorder.folder or "")
    if recorder.error is not None:
        return RecordingState("failed", folder, recorder.error)
    if recorder.recording:
        return RecordingState("recording", folder)
    return RecordingState("stopped" if recorder.folder is not None else "off", folder)


def state_line(session_s: float, who: str, state: str, detail: str) -> str:
    """The terminal line of a sensor's new state: ``[   12.3 s] left: stalled — no data for 0.6 s …``."""
    return f"[{session_s:7.1f} s] {who}: {state}" + (f" — {detail}" if detail else "")


class _Relay:
    """The sink acquisition feeds for one athlete: every call goes on to the current recorder.

    It remembers each sensor's latest state and setup, so a recording started mid-stream begins
    with them and replays on its own; ``on_change(role, state, detail)``, if given, hears every
    state change, and ``on_setup(role, setup)`` every (re)configured sensor.
    """

    def __init__(self, on_change: Callable[[str, str, str], None] | None = None,
                 on_setup: Callable[[str, object], None] | None = None) -> None:
        self.target: SessionRecorder | None = None
        self.states: dict[str, tuple] = {}
        self.setups: dict[str, object] = {}
        self.on_change, self.on_setup = on_change, on_setup

    def switch(self, recorder: SessionRecorder, host_t: float) -> None:
        for role, state in self.states.items():
            recorder.on_state(role, *state)
        for role, setup in self.setups.items():
            recorder.on_configured(role, setup, host_t)
        self.target = recorder

    def on_state(self, role: str, state: str, detail: str = "", address: str = "", battery_pct: int | None = None,
                 device: DeviceInfo | None = None):
        _, _, known_address, known_battery, known_device = self.states.get(role, ("", "", "", None, None))
        self.states[role] = (state, detail, address or known_address,
                             known_battery if battery_pct is None else battery_pct, device or known_device)
        self.target.on_state(role, state, detail, address=address, battery_pct=battery_pct, device=device)
        if self.on_change is not None:
            self.on_change(role, state, detail)

    def on_configured(self, role: str, setup, host_t: float) -> None:
        self.setups[role] = setup
        self.target.on_configured(role, setup, host_t)
        if self.on_setup is not None:
            self.on_setup(role, setup)

    def on_data(self, role: str, stream: str, host_t: float, payload: bytes):
        return self.target.on_data(role, stream, host_t, payload)

    def on_disconnected(self, role: str, host_t: float, cause: str = "disconnected"):
        return self.target.on_disconnected(role, host_t, cause)


class _Analyser:
    """One worker thread running the models' analysis tasks; a model's newer task replaces its waiting one."""

    def __init__(self) -> None:
        self._tasks: dict[DashboardModel, Callable[[], None]] = {}
        self._wake = threading.Condition()
        self._closed = False
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="gaitmon-analysis", daemon=True)
        self._thread.start()

    def submit(self, model: DashboardModel, task: Callable[[], None]) -> None:
        with self._wake:
            self._tasks[model] = task
            self._wake.notify()

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._tasks and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                task = self._tasks.pop(next(iter(self._tasks)))
            try:
                task()
            except Exception as exc:  # noqa: BLE001 - kept for the engine to report; the stream goes on
                log.exception("analysis failed")
                self.failure = self.failure or exc

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join()


def _spool_folder(folder: Path) -> Path | None:
    """``folder``, created, for an unrecorded session's spooled samples; None (the system's
    temporary folder) when it cannot be made."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


class _LiveAthlete:
    """An athlete on sensors (real or emulated): relay → recorder → live session → model."""

    def __init__(self, name: str, source: LiveSource | EmulatedSource,
                 model_for: Callable[[float], DashboardModel | None], sessions_dir: Path, placement: str,
                 on_error: Callable[[str], None], ending: Callable[..., None], folder: Path | None = None,
                 keep_unrecorded: bool = False, on_sensor_state: Callable[[str], None] | None = None,
                 lsl: bool = False):
        self.name, self.placement, self.sessions_dir, self.on_error = name, placement, sessions_dir, on_error
        self.ending, self.first_folder, self.keep_unrecorded = ending, folder, keep_unrecorded
        if isinstance(source, EmulatedSource):
            pair = source.pair()
            self.sensors = {role: pair.addresses[role] for role in (source.roles or pair.addresses)}
            self.rate_hz = source.rate_hz or next(iter(pair.devices.values())).nominal_rate_hz
            self.duration_s = source.duration_s or float(pair.session.samples["left"][0][-1])
            self.backends = pair.backends
            self.label = f"emulated:{pair.family}"
        else:
            self.sensors = dict(source.sensors)
            self.rate_hz, self.duration_s = source.rate_hz, source.duration_s
            self.backends = source.backends or (None, None)
            self.label = "live"
        self.model = model_for(self.rate_hz or 1000.0)
        self._said: dict[str, tuple[str, str]] = {}
        #: The athlete's Lab Streaming Layer outlets (``lsl``, or :meth:`set_lsl`), kept across sessions:
        #: one stream each; a leg's opens as soon as its sensor streams (its rate and family known).
        self.lsl = LslPublisher(name, placement) if lsl else None
        self.relay = _Relay(None if on_sensor_state is None else lambda *state: self._say(on_sensor_state, *state),
                            self._configured)
        self.saved_folder: Path | None = None

    def _configured(self, role: str, setup) -> None:
        if self.lsl is not None:
            self.lsl.configure(role, setup.rate_hz, setup.family)

    def _attach_lsl(self) -> None:
        """Publish the current session (the flags already raised in it are not news)."""
        self.lsl.attach(self.live, self.recorder.origin, self.model.raised_flags() if self.model is not None else ())
        if self.model is not None:
            self.model.flag_listener = self.lsl.flags

    def set_lsl(self, on: bool) -> None:
        """Publish on LSL from now on, or stop and withdraw the streams (on the loop)."""
        if on == (self.lsl is not None):
            return
        if not on:
            lsl, self.lsl = self.lsl, None
            if self.model is not None:
                self.model.flag_listener = None
            lsl.close()
            return
        self.lsl = LslPublisher(self.name, self.placement)
        for role, setup in self.relay.setups.items():
            self._configured(role, setup)
        self._attach_lsl()

    def _say(self, say: Callable[[str], None], role: str, state: str, detail: str) -> None:
        """A sensor's new state and its reason, once (searching is not news: it comes back every retry)."""
        if state == "searching" or self._said.get(role) == (state, detail):
            return
        self._said[role] = (state, detail)
        who = f"{self.name}: {role}" if self.name else role
        say(state_line(self.recorder.now(), who, state, detail))

    def open(self, clock: Callable[[], float], record: bool) -> None:
        self.clock = clock
        self._new_session(record)

    def _new_session(self, record: bool) -> None:
        self.meta = SessionMeta(athlete=self.name, placement=self.placement, source=self.label,
                                sensors={role: SensorInfo(role, identifier=ident) for role, ident in self.sensors.items()})
        keep_tables = record or self.keep_unrecorded
        self.live = LiveSession(self.name, self.placement)
        if self.model is not None:
            self.model.attach(self.live)
        self.tables_folder = (self.first_folder or default_session_dir(self.sessions_dir, self.meta)) if keep_tables else None
        folder = self.tables_folder if record else None
        if keep_tables:
            self.first_folder = None
        # Nothing of the stream is kept in RAM: a recording's outputs are rebuilt from its journal
        # at the end; an unrecorded session's samples and traces go to disk for its tables.
        self.store = None
        if keep_tables and not record:
            self.store = SampleSpool(_spool_folder(self.tables_folder), forward=self.live.projection_listener)
            self.live.block_listener = self.store
            self.live.projection_listener = self.store.projection
        self.recorder = SessionRecorder(self.live, folder, self.meta, self.clock, on_error=self.on_error)
        if self.lsl is not None:
            self._attach_lsl()
        self.relay.switch(self.recorder, self.clock())
        self.show()

    def _end_session(self, then_record: bool | None) -> None:
        """Close the current session (its saved recording gets tables, report and history through
        ``ending``) and, unless ``then_record`` is None, go on in a new one, recorded or not."""
        recorder, live, store, meta, tables = self.recorder, self.live, self.store, self.meta, self.tables_folder
        # Ended before the next one opens: the samples finish() releases are on this session's clock
        # and go to the view that follows it, not into the new session's (a line back in time).
        recorder.close()
        live.finish()
        if then_record is not None:
            self._new_session(then_record)
        if recorder.saved:
            self.saved_folder = recorder.folder
            self.ending(recorder.folder, None, None, meta, saved=True)
        elif self.keep_unrecorded and store is not None:
            self.ending(tables, live, store, meta, saved=False)

    async def run(self, stop: asyncio.Event, connect_lock: asyncio.Lock, halt: threading.Event, claims: dict) -> None:
        await ble.acquire(self.sensors, self.relay, self.rate_hz, duration_s=self.duration_s, stop=stop,
                          backends=self.backends, connect_lock=connect_lock, claims=claims)

    def show(self) -> None:
        if self.model is None:
            return
        state = recording_state(self.recorder)
        if state.state == "off" and self.saved_folder is not None:
            state = RecordingState("stopped", str(self.saved_folder))
        self.model.update(self.recorder.now(), state)

    def tick(self) -> None:
        self.recorder.tick()
        self.show()

    def close(self) -> None:
        self._end_session(then_record=None)
        self.show()
        if self.model is not None:
            self.model.analyse_now(self.recorder.now())
        if self.lsl is not None:
            self.lsl.close()

    # -- commands (on the loop) -------------------------------------------------------------------------
    def start_recording(self) -> None:
        if not self.recorder.recording:
            self._end_session(then_record=True)

    def stop_recording(self) -> None:
        if self.recorder.recording:
            self._end_session(then_record=False)

    def mark_rep(self) -> None:
        mark = self.recorder.mark({"kind": "rep"})
        if self.lsl is not None:
            self.lsl.mark("rep", mark)
        if self.model is not None:
            self.model.add_mark(mark)


class _ReplayAthlete:
    """An athlete replayed from a session folder, in a thread of its own (the journal is read in one go)."""

    def __init__(self, name: str, source: ReplaySource, model_for: Callable[[float], DashboardModel],
                 on_error: Callable[[str], None], lsl: bool = False):
        self.name, self.folder, self.speed, self.on_error = name, Path(source.folder), source.speed, on_error
        self.meta = read_meta(self.folder)
        rates = [s.rate_hz for s in self.meta.sensors.values() if s.rate_hz]
        self.model = model_for(max(rates, default=1000.0))
        self.state = RecordingState("replay", str(self.folder))
        self.now = 0.0
        self.lsl_wait_s = source.lsl_wait_s
        #: LSL publishing wanted (:meth:`set_lsl`); the replay thread follows it (:meth:`_follow_lsl`).
        self.lsl_wanted = lsl
        self.lsl = self._publisher() if lsl else None
        self._lsl_marks = 0  # the replayed marks published (or past when publishing began)

    def _publisher(self) -> LslPublisher:
        """The replay's outlets, the legs' open at once (from the recording's sensors)."""
        lsl = LslPublisher(self.meta.athlete or self.name, self.meta.placement, speed=self.speed,
                           source=f"replay of {self.folder}")
        for role, sensor in self.meta.sensors.items():
            if sensor.rate_hz and sensor.family:
                lsl.configure(role, sensor.rate_hz, sensor.family)
        return lsl

    def set_lsl(self, on: bool) -> None:
        """Publish on LSL from the next replayed record on, or stop (the replay thread does it)."""
        self.lsl_wanted = on

    def _follow_lsl(self, session_t: float, marks: int) -> None:
        """In the replay thread, at session time ``session_t`` (s): open or close the outlets as wanted;
        an opened one maps ``session_t`` to the host clock now (``marks`` the marks already past)."""
        if self.lsl_wanted and (self.lsl is None or not self.lsl.attached):
            if self.lsl is None:
                self.lsl = self._publisher()
            lsl = self.lsl
            lsl.attach(self.live, lsl.pylsl.local_clock() - session_t / self.speed, self.model.raised_flags())
            self.model.flag_listener = lsl.flags
            self._lsl_marks = marks
        elif not self.lsl_wanted and self.lsl is not None:
            lsl, self.lsl = self.lsl, None
            self.model.flag_listener = None
            lsl.close()

    def open(self, clock: Callable[[], float], record: bool) -> None:
        self.live = LiveSession(self.meta.athlete or self.name, self.meta.placement)
        self.model.attach(self.live)
        self.model.update(0.0, self.state)

    async def run(self, stop: asyncio.Event, connect_lock: asyncio.Lock, halt: threading.Event, claims: dict) -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def work() -> None:
            outcome = None
            try:
                self._replay(halt)
            except BaseException as exc:  # noqa: BLE001 - handed to the loop, raised there
                outcome = exc
            try:
                loop.call_soon_threadsafe(_settle, done, outcome)
            except RuntimeError:  # the loop is already closed: nobody is waiting
                pass

        threading.Thread(target=work, name=f"gaitmon-replay-{self.name}", daemon=True).start()
        await done

    def _replay(self, halt: threading.Event) -> None:
        shown_marks = 0
        next_update = -math.inf
        if self.lsl is not None and self.lsl_wait_s > 0:
            waited = time.monotonic() + self.lsl_wait_s
            while not (self.lsl.wait_for_consumers(0.25) or halt.is_set()):
                if time.monotonic() > waited:
                    log.info("%s: no LSL consumer on every stream within %g s; replaying anyway", self.name,
                             self.lsl_wait_s)
                    break

        def show_marks(marks: list[tuple[float, dict]]) -> None:
            nonlocal shown_marks
            for t, _ in marks[shown_marks:]:
                self.model.add_mark(t)
            shown_marks = len(marks)
            if self.lsl is not None:
                for t, content in marks[self._lsl_marks:]:
                    self.lsl.mark(str(content.get("kind", "mark")), t)
                self._lsl_marks = len(marks)

        def advance(t: float, marks: list[tuple[float, dict]]) -> None:
            nonlocal next_update
            if self.lsl_wanted != (self.lsl is not None and self.lsl.attached):
                self._follow_lsl(t, len(marks))
            self.now = max(self.now, t)
            if self.now >= next_update:
                next_update = self.now + FLUSH_INTERVAL_S
                show_marks(marks)
                self.model.update(self.now, self.state)

        replayed = replay_session(self.folder, self.speed, live=self.live, keep_samples=False, halt=halt,
                                  on_time=advance)
        for problem in replayed.problems:
            self.on_error(problem)
        show_marks(replayed.marks)
        self.model.analyse_now(self.now, self.state)
        if self.lsl is not None:
            self.lsl.close(linger_s=CLOSE_LINGER_S)  # in the replay's thread: the last samples leave first

    def tick(self) -> None:
        """Nothing: the replay thread keeps its model up to date."""

    def close(self) -> None:
        """Nothing: the replay thread closes its session."""

    def start_recording(self) -> None:
        self.on_error(f"{self.name}: a replay is not recorded again")

    stop_recording = mark_rep = start_recording


def _check_sensors_distinct(athletes: Mapping[str, Source]) -> None:
    """InputError when one real sensor (address or name) is given to two legs, of one athlete or two."""
    sensors = {f"{name + ' ' if name else ''}{role}": identifier for name, source in athletes.items()
               if isinstance(source, LiveSource) for role, identifier in source.sensors.items()}
    try:
        ble.check_distinct(sensors)
    except ValueError as error:
        raise InputError("gaitmon live", None, str(error)) from None


def _settle(future: asyncio.Future, outcome: BaseException | None) -> None:
    if future.done():
        return
    if outcome is None:
        future.set_result(None)
    else:
        future.set_exception(outcome)


class Engine:
    """Acquisition, recording and models of one or more athletes, on one asyncio loop.

    Parameters
    ----------
    athletes : Mapping
        athlete name → :class:`LiveSource`, :class:`EmulatedSource` or :class:`ReplaySource`.
    sessions_dir : Path, optional
        Where recordings go, one new folder each (default: the data directory's ``sessions/``).
    record : bool
        Start recording every live or emulated athlete at once.
    placement : {"shank", "foot"}
    window_s : float
        Trace history of each model, s.
    on_error : callable
        Receives one-line messages (a recording that failed, damage in a replayed journal).
    on_message : callable
        Receives what a finished recording prints (summary, health, files written, history).
    history_db : Path, None or False
        Where finished recordings of named athletes go (None: the data directory's; False: nowhere),
        and whose calibration of each athlete, if one was saved, corrects the dashboard's numbers and
        the finished recordings' tables (False: none).
    folders : Mapping, optional
        athlete name → the folder of that athlete's first recording (default: a new one in
        ``sessions_dir``).
    on_tick : callable, optional
        ``on_tick(session_s)``, called on the engine thread after each housekeeping round (every
        0.25 s): headless status lines, snapshots for a picture.
    dashboard : bool
        Keep a :class:`DashboardModel` per athlete (traces, analyses every 0.5 s) for a window or a
        picture. ``gaitmon live --headless`` runs without: the stream, the recording and the
        final tables are the same, nothing is drawn.
    keep_unrecorded : bool
        Also write the tables and report of a session that was not recorded (into its folder),
        as ``gaitmon live --no-record --out DIR`` does; such a session never enters the history.
    on_sensor_state : callable, optional
        Receives a line (:func:`state_line`) whenever a live or emulated sensor's state or its
        reason changes: stalled, reconnecting, not found, no Bluetooth, streaming again …
    lsl : bool
        Publish each athlete's ω, |a|, gait events and strength-balance flags as Lab Streaming Layer
        streams (:class:`gaitmon.engine.lsl.LslPublisher`; needs the extra ``gaitmon[lsl]``, real time;
        a replay at its pace, mapped to the host clock now); :meth:`set_lsl` switches it at run time.
        The flags come from each athlete's model, which then runs headless too.
    on_analysis : callable, optional
        ``on_analysis(athlete, run)`` hears each :class:`~gaitmon.engine.model.AnalysisRun` of an
        athlete's model (its cost as the session grows), on the thread that ran it.

    Raises
    ------
    ValueError
        A virtual-clock :class:`EmulatedSource` mixed with real-time sources.
    gaitmon.errors.InputError
        A :class:`ReplaySource` folder that is not a session folder; one sensor given twice; ``lsl``
        without the extra installed, on a virtual clock, or with a replay as fast as possible.
    """

    def __init__(self, athletes: Mapping[str, Source], sessions_dir: Path | None = None, record: bool = True,
                 placement: str = "shank", window_s: float = 10.0, on_error: Callable[[str], None] = log.error,
                 on_message: Callable[[str], None] = log.info, history_db: Path | None | bool = None,
                 on_tick: Callable[[float], None] | None = None, folders: Mapping[str, Path] | None = None,
                 dashboard: bool = True, keep_unrecorded: bool = False,
                 on_sensor_state: Callable[[str], None] | None = None, lsl: bool = False,
                 on_analysis: Callable[[str, AnalysisRun], None] | None = None):
        _check_sensors_distinct(athletes)
        sources = list(athletes.values())
        virtual = [isinstance(s, EmulatedSource) and not s.realtime for s in sources]
        if any(virtual) and not all(virtual):
            raise ValueError("a virtual-clock emulated source cannot share the engine with real-time sources")
        self._virtual = bool(sources) and all(virtual)
        if lsl and self._virtual:
            raise InputError("--lsl", None, "the Lab Streaming Layer streams need real time, not a virtual clock")
        if lsl and any(isinstance(s, ReplaySource) and s.speed is None for s in sources):
            raise InputError("--lsl", None, NO_PACE)
        self._dashboard = dashboard or lsl  # a model per athlete: its analysis raises the flags LSL publishes
        self._lsl = lsl
        self._record = record
        self._on_message, self._on_error, self._history_db, self._on_tick = on_message, on_error, history_db, on_tick
        sessions_dir = Path(sessions_dir) if sessions_dir is not None else default_data_dir() / "sessions"

        def model_for(name: str) -> Callable[[float], DashboardModel | None]:
            if not self._dashboard:
                return lambda rate_hz: None
            schedule = None if self._virtual else self._schedule
            calibration = None if isinstance(history_db, bool) else saved_calibration(name, history_db)
            heard = None if on_analysis is None else functools.partial(on_analysis, name)
            return lambda rate_hz: DashboardModel(name, window_s, rate_hz, schedule=schedule, calibration=calibration,
                                                  on_analysis=heard)

        self._athletes: dict[str, _LiveAthlete | _ReplayAthlete] = {}
        for name, source in athletes.items():
            if isinstance(source, ReplaySource):
                self._athletes[name] = _ReplayAthlete(name, source, model_for(name), on_error, lsl)
            else:
                self._athletes[name] = _LiveAthlete(name, source, model_for(name), sessions_dir, placement, on_error,
                                                    self._finish_recording, (folders or {}).get(name),
                                                    keep_unrecorded, on_sensor_state, lsl)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._halt = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._analyser: _Analyser | None = None
        #: What ended the engine thread abnormally, if anything.
        self.failure: BaseException | None = None

    # -- running -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Run the engine in a daemon thread; returns once it is running (or has failed: raised)."""
        if self._thread is not None:
            raise RuntimeError("the engine was already started")
        self._thread = threading.Thread(target=self._thread_main, name="gaitmon-engine", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self.failure is not None:
            raise self.failure

    def run_to_end(self) -> None:
        """Run in the calling thread until every source has ended (headless use, tests)."""
        try:
            self._run()
        finally:
            self._ready.set()

    def stop(self, timeout_s: float | None = 10.0) -> None:
        """Stop acquisition and replays, close the recordings, and wait for the engine thread."""
        self._halt.set()
        loop, stop = self._loop, self._stop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop closed meanwhile: it is stopping anyway
                pass
        self.wait(timeout_s)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the engine thread to end by itself (sources over); True when it has."""
        if self._thread is not None:
            self._thread.join(timeout_s)
            return not self._thread.is_alive()
        return True

    @property
    def running(self) -> bool:
        return self._loop is not None

    def _thread_main(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - reported through .failure
            log.exception("the dashboard engine stopped")
            self.failure = exc
        finally:
            self._ready.set()

    def _run(self) -> None:
        self._analyser = None if self._virtual or not self._dashboard else _Analyser()
        try:
            if self._virtual:
                run_virtual(self._main())
            else:
                asyncio.run(self._main())
        finally:
            if self._analyser is not None:
                self._analyser.close()
        if self._analyser is not None and self._analyser.failure is not None:
            raise self._analyser.failure

    def _schedule(self, model: DashboardModel, task: Callable[[], None]) -> None:
        self._analyser.submit(model, task)

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        connect_lock = asyncio.Lock()  # one radio: connects one at a time, ...
        claims: dict[str, str] = {}  # ... and a sensor streams to one leg (address → role)
        for athlete in self._athletes.values():
            athlete.open(loop.time, self._record)
        self._loop = loop
        if self._halt.is_set():
            self._stop.set()
        self._ready.set()
        chores = asyncio.ensure_future(self._housekeeping())
        try:
            await asyncio.gather(*(a.run(self._stop, connect_lock, self._halt, claims)
                                   for a in self._athletes.values()))
        finally:
            self._loop = None
            self._halt.set()
            chores.cancel()
            for athlete in self._athletes.values():
                athlete.close()

    async def _housekeeping(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            for athlete in self._athletes.values():
                athlete.tick()
            if self._on_tick is not None:
                self._on_tick(loop.time() - started)

    def _finish_recording(self, folder: Path, live: LiveSession | None, store: SampleSpool | None,
                          meta: SessionMeta, saved: bool = True) -> None:
        """Tables, report and (when ``saved``) history entry of a finished session — a recording's
        rebuilt from its journal (``live`` None), an unrecorded one's from ``live`` and its spooled
        samples — in a worker thread while the engine runs in real time (the stream must not wait
        seconds for a report), else at once."""
        def finish() -> None:
            try:
                samples, traces = (None, None) if store is None else (store.samples(), store.traces())
                finish_session(folder, live, samples, meta, saved=saved, history_db=self._history_db,
                               print_fn=self._on_message, traces=traces)
            except Exception as exc:  # noqa: BLE001 - the recording itself is safe on disk
                self._on_error(f"{folder}: the session's tables could not be written ({exc}); "
                               f"`gaitmon analyze {folder}` makes them from the recording")

        if self._virtual or self._loop is None:  # no loop: the engine is closing, nothing left to keep waiting
            finish()
        else:
            threading.Thread(target=finish, name="gaitmon-session-end").start()

    # -- the GUI's side ----------------------------------------------------------------------------------
    @property
    def athletes(self) -> tuple[str, ...]:
        return tuple(self._athletes)

    def model(self, athlete: str) -> DashboardModel:
        return self._athletes[athlete].model

    def snapshot(self, athlete: str, window_s: float | None = None) -> Snapshot:
        """What to draw for ``athlete`` now (thread-safe, never waits for the engine)."""
        return self._athletes[athlete].model.snapshot(window_s)

    def status_line(self, athlete: str) -> str:
        """The headless status line of a live or emulated athlete (links, rates, losses, contacts)."""
        target = self._athletes[athlete]
        return f"{athlete}: {status_line(target.live, target.recorder)}"

    def recorder(self, athlete: str) -> SessionRecorder:
        """The athlete's current recorder (its ``folder``, ``recording``, ``now()``)."""
        return self._athletes[athlete].recorder

    def live(self, athlete: str) -> LiveSession:
        """The athlete's current live session (touch it from the engine thread or once it has ended)."""
        return self._athletes[athlete].live

    def start_recording(self, athlete: str) -> None:
        """Record ``athlete`` into a new session folder (no-op while recording)."""
        self._command(athlete, "start_recording")

    def stop_recording(self, athlete: str) -> None:
        """Close ``athlete``'s recording; the live view goes on."""
        self._command(athlete, "stop_recording")

    def mark_rep(self, athlete: str) -> None:
        """Journal a hand-made rep mark (``{"kind": "rep"}``) at the current session time."""
        self._command(athlete, "mark_rep")

    @property
    def lsl_problem(self) -> str | None:
        """Why this engine cannot publish on LSL (the extra missing, a virtual clock), in a few words, or None."""
        if self._virtual:
            return "needs real time"
        if any(isinstance(a, _ReplayAthlete) and a.speed is None for a in self._athletes.values()):
            return "replay at max speed"
        return lsl_problem()

    @property
    def lsl_on(self) -> bool:
        """Whether the athletes are published on LSL (as last asked: ``lsl``, :meth:`set_lsl`)."""
        return self._lsl

    def set_lsl(self, on: bool) -> None:
        """Publish every athlete on LSL from now on (streams open), or stop (streams withdrawn).

        Raises InputError (one line) when it cannot be switched on here (:attr:`lsl_problem`)."""
        problem = self.lsl_problem if on else None
        if problem:
            raise InputError("LSL", None, f"cannot publish: {problem}")
        self._lsl = on
        for name in self._athletes:
            self._command(name, "set_lsl", on)

    def _command(self, athlete: str, action: str, *args) -> None:
        target = self._athletes[athlete]
        loop = self._loop
        if loop is None:
            raise RuntimeError("the dashboard engine is not running")
        loop.call_soon_threadsafe(getattr(target, action), *args)
