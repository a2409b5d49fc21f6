"""The coach's dashboard drawing live data: frame rate, frame time, CPU, stream lag and dropped samples.

Data: per athlete, two emulated gaitmon DIY boards (``EmulatedSource``, realtime) stream a simulated
sprint session (scenario ``swing_plateau``, realistic switches on, 1000 Hz: 100 notifications of 10
samples per second per sensor) through the real bleak code path, in the dashboard engine's own
thread, into the real recorder (a temporary ``sessions_dir``) and the athletes' models. The window is
the real :class:`~gaitmon.dashboard.window.DashboardWindow` at 1600 × 1000 px, shown on Qt's offscreen
platform (painting really happens, into the offscreen backing store).

Cases: one athlete (two sensors) and three athletes (six sensors in one engine; the window shows one
and switches to the next every ``--switch`` s with ``window.next_athlete()``). Per case one engine
streams throughout (after a warm-up, not counted: ``--warmup`` s, every sensor streaming and the traces
showing data, which they do from the first strides, ~10 s into the simulated session) while
three modes take turns in blocks of ``--block`` s (order rotated each round, ``--seconds`` per mode in
all), so that each mode sees the same mix of sprinting and walking in the simulated session:

- **engine alone** — no window shown or drawing, the GUI thread idles in the Qt event loop: baseline 1;
- **window @30 fps** — ``DashboardWindow(engine)``: its own redraw QTimer at its normal setting;
- **window unthrottled** — ``DashboardWindow(engine, fps=0)``, a 0 ms timer: the headroom.

After ``engine.stop()``, **draw alone** (baseline 2): snapshots drawn live @30 fps (the first frames of
each block) are drawn again in the same order by a new window, unthrottled, with nothing else running:
the drawing's own cost, compared with the live frame times of the same snapshots.
Each block starts 0.5 s after its window is shown (the first, full paint is not counted).

What a "frame" is: one timeout of the window's own redraw QTimer (the timer and its frame pacing are
the window's; its ``refresh`` is replaced by a timed one doing the same): ``window.refresh()`` (snapshot +
setData + labels; ``next_athlete()`` on a switch frame; ``window.render(snapshot, parts_per_frame=1)``,
as refresh() draws, when drawing alone), plus the paint Qt does right after it in the same event-loop pass: the ``UpdateRequest``
posted to the window, whose delivery paints every dirty widget into the backing store. That delivery
is timed by an event filter on the window (it delivers the event itself between two clock readings),
so Qt paints exactly when and what it would have. Frame time = timer callback to the end of that
paint. (Forcing the paint instead — ``repaint()``, or flushing posted events after ``refresh()`` —
makes Qt paint twice per frame here, which would overstate the cost.) ``window.frame_times`` holds
refresh() alone; it is shown beside it.

Figures, per mode (the machine has 2 cores and may be shared: the CPU of other processes during the
measured blocks is printed; trust the ratios more than the absolute numbers):

- fps: frames per second from the first to the last frame start of each block, summed over the
  blocks (sustained; a block's ends, part of a frame period each, are not counted);
- frame ms: median, p95 and max of the frame as defined above; refresh and paint ms: median / p95 of
  each part; paints (syncs) per frame; and the frames split by what they redrew (``window.drawn``:
  traces only, or the traces and one of the parts that changed — numbers and banner, rep table,
  one leg's balance plots, health table — or an athlete switch);
- CPU, in % of one core: the process (``time.process_time``), the GUI thread (``time.thread_time``
  read in the GUI thread), the engine and analysis threads (``/proc/self/task/<tid>/schedstat``) and
  the other processes on the machine (``/proc/stat``);
- stream lag: how much later than the fastest notification of its sensor each notification was
  stamped on arrival by the engine (journal receive time − device time, minus the sensor's minimum),
  p50 / p99 / max ms over every sensor: the engine waiting for the GIL or a core shows up here;
- ratios against the baselines: process CPU with the window ÷ engine alone; frame time live ÷ the
  same snapshots drawn alone.

Proof of no loss: after ``engine.stop()`` each athlete's session folder is read back: samples per
sensor in the journal (the sample count of every DATA record), replayed through the real decoders and
timing (``replay_session``), compared with what the emulated devices sent (their notification
counters × samples per notification; no link faults are configured, so any loss would be ours) and
with the live session's health counts. A "dropped: N" line per sensor; the script exits 1 if any
sample was lost. The issue's target (≥ 30 fps with p95 frame time ≤ 25 ms, one athlete, window @30
fps) is printed as PASS or MISS, with the frames of the window's 30 fps pace it missed (the window
paces at exactly 30 fps, so a measured rate within ``FPS_RESOLUTION`` of 30 counts); a miss does not
fail the script (benchmarks measure, they don't assert).

Long session (``--long``, issue #17): does a 2-hour session draw as smoothly as a 2-minute one? Three
athletes' emulated sensors stream a looped simulated session for ``--long-minutes`` (120) on the engine's
virtual clock, all in one thread (the engine, the models' analyses in place, the window), not recorded.
In the first and the last ``--measure-minutes`` (10) the window draws a frame every 1/30 s of session
time (refresh(), or next_athlete() every ``--switch`` s, and the paint it causes: the frame time); fps
= frames ÷ the wall time of that stretch, the engine's work for the same session time included (as
the threads of a live run share one interpreter lock), so ≥ 30 means the window keeps its pace in real
time. Also printed: each model's analysis time per run (new events in, the Analysis out) in both
stretches and per 10 min, and beside it, once a minute of session time, the batch ``analyse()`` of
athlete1's events so far (the specification, what the model re-ran every 0.5 s before) timed and
compared with what the model shows (a difference exits 1). About 25 min at 1 kHz.

Run: ``python benchmarks/bench_dashboard.py`` (30 s per mode, about 4.5 min) or
``python benchmarks/bench_dashboard.py --quick`` (10 s per mode, about 2 min);
``--athletes 1`` for one case only; ``--seconds``, ``--block``, ``--reps`` (simulated session
length, long enough by default), ``--keep DIR`` to keep the recorded sessions.
``python benchmarks/bench_dashboard.py --long`` for the long session (``--long-minutes 5
--measure-minutes 1 --rate 200`` for a short try).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from bisect import bisect_left  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from pyqtgraph.Qt import QtCore  # noqa: E402

from gaitmon.engine.runtime import EmulatedSource, Engine  # noqa: E402
from gaitmon.dashboard.window import FPS, DashboardWindow, application, dispose  # noqa: E402
from gaitmon.sensors.diy import protocol as diy  # noqa: E402
from gaitmon.session import journal  # noqa: E402
from gaitmon.session.folder import JOURNAL_FILE  # noqa: E402
from gaitmon.sources.replay import replay_session  # noqa: E402

RATE_HZ = 1000.0
SIZE = (1600, 1000)
ALONE, LIVE, FREE, DRAWN = "engine alone", f"window @{FPS:g} fps", "window unthrottled", "draw alone"
#: Unmeasured time at the start of each block (a window just shown paints everything once).
SETTLE_S = 0.5
#: Longest warm-up beyond --warmup, s (the traces appear with the first strides, ~10 s into the session).
WARMUP_LIMIT_S = 40.0
#: Snapshots of the @30 fps mode kept (the first frames of each block, in runs so that the rest of the
#: window changes as often as live) to be drawn again alone.
KEEP = 150
#: The issue's target for one athlete with the window at its normal rate.
TARGET_FPS, TARGET_P95_MS = 30.0, 25.0
#: The window paces frames at exactly FPS; timer jitter (~1 ms) at the ends of each block moves the
#: measured rate by ~0.01 fps either way, so a rate within this of the target meets it. One frame
#: missed in a 30 s mode costs 0.03 fps.
FPS_RESOLUTION = 0.05
#: Simulated session: about this long per rep (10 s walking recovery) plus this much around the reps.
REP_CYCLE_S, SESSION_EXTRA_S = 23.0, 6.0


# -- sources whose emulated devices can be counted --------------------------------------------------------


class CountedSource(EmulatedSource):
    """An :class:`EmulatedSource` that keeps the emulated pair the engine makes from it (``.made``),
    so the devices' send counters can be read after the run."""

    def pair(self):
        made = super().pair()
        object.__setattr__(self, "made", made)  # a frozen dataclass: set once, by the engine's one call
        return made


# -- CPU accounting -----------------------------------------------------------------------------------------


def _thread_cpu_s() -> dict[str, float]:
    """CPU seconds of the engine's named threads so far (Linux; empty elsewhere)."""
    out = {}
    for thread in threading.enumerate():
        if thread.name in ("gaitmon-engine", "gaitmon-analysis") and thread.native_id:
            try:
                with open(f"/proc/self/task/{thread.native_id}/schedstat") as f:
                    out[thread.name] = int(f.read().split()[0]) / 1e9
            except (OSError, ValueError, IndexError):
                pass
    return out


def _machine_busy_s() -> float | None:
    """CPU seconds all cores have been busy since boot (/proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Usage:
    """CPU seconds used during a mode's measured blocks (shares: 1.0 = one core busy all the time)."""

    wall: float = 0.0
    process: float = 0.0
    gui: float = 0.0
    threads: dict[str, float] = field(default_factory=dict)
    machine: float | None = 0.0
    spans: list[tuple[float, float]] = field(default_factory=list)  # time.monotonic() of each block

    def share(self, what: str) -> float:
        if what == "others":
            return math.nan if self.machine is None else max(0.0, self.machine - self.process) / self.wall
        seconds = getattr(self, what) if what in ("process", "gui") else self.threads.get(what, math.nan)
        return seconds / self.wall if self.wall else math.nan

    def pct(self, what: str) -> str:
        value = self.share(what)
        return "–" if not math.isfinite(value) else f"{100 * value:.0f}"


class Meter:
    """Clocks read at the start and end of a block, in the GUI thread."""

    def begin(self) -> None:
        self.t0, self.m0 = time.perf_counter(), time.monotonic()
        self.cpu0, self.gui0 = time.process_time(), time.thread_time()
        self.threads0, self.machine0 = _thread_cpu_s(), _machine_busy_s()

    def end(self, usage: Usage) -> None:
        usage.wall += time.perf_counter() - self.t0
        usage.process += time.process_time() - self.cpu0
        usage.gui += time.thread_time() - self.gui0
        threads1, machine1 = _thread_cpu_s(), _machine_busy_s()
        for name, start in self.threads0.items():
            if name in threads1:
                usage.threads[name] = usage.threads.get(name, 0.0) + threads1[name] - start
        if usage.machine is not None and machine1 is not None and self.machine0 is not None:
            usage.machine += machine1 - self.machine0
        else:
            usage.machine = None
        usage.spans.append((self.m0, time.monotonic()))


# -- frames -------------------------------------------------------------------------------------------------


class SyncTimer(QtCore.QObject):
    """Times every paint of a top-level widget without changing when or what Qt paints.

    Qt paints a widget window when the ``UpdateRequest`` that ``update()`` posted to it is delivered:
    that one event paints every dirty widget into the backing store and flushes it. The filter
    delivers it itself (``sendEvent``, re-entrant) between two clock readings and swallows the
    original. Paint events of the widget outside such a sync (none expected) are counted as untimed.
    """

    def __init__(self, widget):
        super().__init__()
        self.widget = widget
        self.inside = False
        self.syncs: list[tuple[float, float]] = []
        self.untimed = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
        kind = event.type()
        if obj is self.widget and kind == QtCore.QEvent.Type.UpdateRequest and not self.inside:
            self.inside = True
            started = time.perf_counter()
            try:
                QtCore.QCoreApplication.sendEvent(obj, event)
            finally:
                self.inside = False
            self.syncs.append((started, time.perf_counter()))
            return True
        if kind == QtCore.QEvent.Type.Paint and not self.inside:
            self.untimed += 1
        return False


#: What a frame redrew besides the traces (``window.drawn``: at most one part per frame, and only
#: a part whose content changed), or an athlete switch (everything).
KINDS = {"traces": "traces only", "numbers": "+ numbers/banner", "reps": "+ rep table",
         "balance left": "+ balance L", "balance right": "+ balance R", "health": "+ health table",
         "switch": "athlete switch"}


class Frames:
    """Takes over a window's redraw QTimer: each timeout calls refresh() (or what the mode draws),
    timed; the paint that follows in the same event-loop pass is timed by :class:`SyncTimer`."""

    def __init__(self, window: DashboardWindow, switch_every_s: float | None = None, keep_first: int = 0,
                 period_s: float = 0.0):
        self.window = window
        self.switch_every_s = switch_every_s
        self.keep_first = keep_first  # snapshots kept from the start of each measured block
        self.period_s = period_s  # the window's frame pace (0: unthrottled)
        self.replay: list | None = None
        self.on_done = None
        self.measuring = False
        self.sync = SyncTimer(window)
        self.next_switch = math.inf
        self.reset()
        self.refresh = window.refresh
        window.refresh = self.frame  # the window's own timer and pacing now call the timed frame

    def activate(self) -> None:
        self.window.show()
        if self.switch_every_s:
            self.next_switch = time.perf_counter() + self.switch_every_s
        self.window.start()  # refresh() once, then the window's timer at its pace

    def deactivate(self) -> None:
        self.window.stop()
        self.window.hide()

    def reset(self) -> None:
        self.calls: list[tuple[float, float, str]] = []  # (timer callback, end of refresh, what was redrawn)
        self.kept: list[tuple[int, object]] = []  # (call number, snapshot drawn)
        self.sync.syncs.clear()
        self.untimed_at_start = self.sync.untimed

    def frame(self) -> None:
        window = self.window
        t0 = time.perf_counter()
        kind = None
        if self.replay is not None:
            if self.i >= len(self.replay):
                self.on_done()
                return
            window.render(self.replay[self.i], parts_per_frame=1)  # as refresh() draws
            self.i += 1
        elif t0 >= self.next_switch:
            self.next_switch = t0 + self.switch_every_s
            window.next_athlete()  # draws the next athlete (refresh() inside)
            kind = "switch"
        else:
            self.refresh()
        if self.measuring:
            self.calls.append((t0, time.perf_counter(), kind or window.drawn[-1]))
            if len(self.calls) <= self.keep_first:
                self.kept.append((len(self.calls) - 1, window.last))

    def start_replay(self, snapshots: list, on_done) -> None:
        self.replay, self.i, self.on_done = list(snapshots), 0, on_done

    def collect(self, end: float) -> dict:
        """Per frame: refresh, paint (every sync before the next frame) and frame time (callback to
        the end of its last paint; to the end of refresh if nothing was painted), in s."""
        calls, syncs = self.calls, sorted(self.sync.syncs)
        starts = [s for s, _ in syncs]
        out = dict(frames=[], refresh=[], paint=[], kinds=[], syncs_in=0,
                   untimed=self.sync.untimed - self.untimed_at_start,
                   intervals=max(0, len(calls) - 1), span=calls[-1][0] - calls[0][0] if calls else 0.0)
        if self.period_s and calls:  # frames of the window's pace that were not drawn
            out["missed"] = max(0, round(out["span"] / self.period_s) + 1 - len(calls))
        for i, (t0, t1, kind) in enumerate(calls):
            until = calls[i + 1][0] if i + 1 < len(calls) else end
            mine = syncs[bisect_left(starts, t1):bisect_left(starts, until)]
            out["refresh"].append(t1 - t0)
            out["paint"].append(sum(e - s for s, e in mine))
            out["frames"].append((max(e for _, e in mine) if mine else t1) - t0)
            out["kinds"].append(kind)
            out["syncs_in"] += len(mine)
        out["kept"] = [(out["frames"][i], snap) for i, snap in self.kept]
        return out


@dataclass
class Phase:
    """One mode's measured blocks together."""

    name: str
    usage: Usage = field(default_factory=Usage)
    frames: list[float] = field(default_factory=list)  # s, timer callback → end of its paint
    refresh: list[float] = field(default_factory=list)  # s, refresh() (next_athlete() / render())
    paint: list[float] = field(default_factory=list)  # s, painting per frame
    kinds: list[str] = field(default_factory=list)  # what each frame redrew (:data:`KINDS`)
    syncs_in: int = 0
    untimed: int = 0
    intervals: int = 0  # frame starts after the first of each block
    missed: int = 0  # frames of the window's pace (1 / FPS) not drawn: the window ran late
    span: float = 0.0  # s, first to last frame start of each block, summed
    kept: list = field(default_factory=list)  # (live frame time s, snapshot)
    lag_ms: np.ndarray | None = None

    def add(self, collected: dict) -> None:
        for key, value in collected.items():
            setattr(self, key, getattr(self, key) + value)

    @property
    def fps(self) -> float:
        return self.intervals / self.span if self.span > 0 else math.nan

    def ms(self, q: float, values=None) -> float:
        values = self.frames if values is None else values
        return float(np.percentile(np.asarray(values) * 1e3, q)) if len(values) else math.nan


def run_loop(seconds: float, frames: Frames | None = None) -> None:
    """Run the Qt event loop for ``seconds`` (or until a replay is done).

    A local QEventLoop, not ``app.exec()`` ended by ``app.quit``: in Qt 6 ``QGuiApplication.quit()``
    first closes every top-level window, and the dashboard's closeEvent stops its redraw timer.
    """
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(max(1, round(seconds * 1000)), loop.quit)
    if frames is not None:
        frames.on_done = loop.quit
    loop.exec()


def block(phase: Phase, seconds: float, frames: Frames | None = None) -> None:
    """One measured block of a mode: show its window (if any), settle, measure, hide."""
    if frames is not None:
        frames.activate()
    run_loop(SETTLE_S)
    meter = Meter()
    if frames is not None:
        frames.reset()
        frames.measuring = True
    meter.begin()
    run_loop(seconds)
    meter.end(phase.usage)
    if frames is not None:
        frames.measuring = False
        phase.add(frames.collect(time.perf_counter()))
        frames.deactivate()


# -- the recording, read back -------------------------------------------------------------------------------


@dataclass
class JournalCount:
    packets: int = 0
    samples: int = 0
    t: list = field(default_factory=list)  # receive times, session clock s
    device_us: list = field(default_factory=list)  # device time of the first sample, µs (wraps at 2³²)


def read_journal(folder: Path) -> dict[str, JournalCount]:
    """role → data notifications and samples in the journal, with receive and device times."""
    channels: dict[int, str] = {}
    counts: dict[str, JournalCount] = {}
    for record in journal.iter_records(folder / JOURNAL_FILE):
        if record.kind == journal.CHANNEL:
            channels[record.channel] = str(record.content["role"])
        elif record.kind == journal.DATA and record.channel in channels:
            _, _, _, time_us, n, _ = diy.HEADER.unpack_from(record.payload)
            count = counts.setdefault(channels[record.channel], JournalCount())
            count.packets += 1
            count.samples += n
            count.t.append(record.t)
            count.device_us.append(time_us)
    return counts


def stream_lag(count: JournalCount) -> tuple[np.ndarray, np.ndarray]:
    """(receive time s, lag ms): receive time − device time, minus the sensor's minimum."""
    t = np.asarray(count.t)
    steps = np.diff(np.asarray(count.device_us, dtype=np.int64)) % (1 << 32)
    device_s = np.concatenate([[0], np.cumsum(steps)]) / 1e6
    lag = t - device_s
    return t, (lag - lag.min()) * 1e3


@dataclass
class SensorCheck:
    athlete: str
    role: str
    notifications: int
    sent: int
    faults: int
    live_samples: int
    live_lost: int
    journal_packets: int
    journal_samples: int
    replay_samples: int
    replay_lost: int

    @property
    def dropped(self) -> int:
        return self.sent - self.journal_samples

    @property
    def ok(self) -> bool:
        return (self.dropped == 0 and self.live_lost == 0 and self.replay_lost == 0 and self.faults == 0
                and self.sent > 0 and self.live_samples == self.sent and self.replay_samples == self.journal_samples)


def check_recordings(engine: Engine, sources: dict[str, CountedSource], folders: dict[str, Path]):
    """Per sensor: sent by the emulated device, seen live, in the journal, replayed; and the lags."""
    checks, lags = [], []
    for name, source in sources.items():
        live_health = engine.live(name).health()
        counts = read_journal(folders[name])
        replayed = replay_session(folders[name])
        replay_samples = {role: len(t) for role, (t, _) in replayed.store.samples().items()}
        replay_health = replayed.live.health()
        for role, device in source.made.devices.items():
            log = device.log
            faults = log.dropped + log.duplicated + log.reordered + log.corrupted + len(log.disconnects)
            count = counts.get(role, JournalCount())
            live, again = live_health.get(role), replay_health.get(role)
            checks.append(SensorCheck(
                name, role, log.notifications, log.notifications * (device.first_packet_samples or 0), faults,
                live.samples if live else 0, live.lost_samples if live else 0, count.packets, count.samples,
                replay_samples.get(role, 0), again.lost_samples if again else 0))
            if count.packets > 1:
                lags.append(stream_lag(count))
        for problem in replayed.problems:
            print(f"  journal problem: {problem}")
    return checks, lags


# -- one case -----------------------------------------------------------------------------------------------


@dataclass
class CaseResult:
    label: str
    n_athletes: int
    phases: dict[str, Phase]
    checks: list[SensorCheck]
    failure: BaseException | None = None
    errors: list[str] = field(default_factory=list)


def run_case(n_athletes: int, args, base: Path) -> CaseResult:
    label = f"{n_athletes} athlete{'s' if n_athletes > 1 else ''}"
    names = [f"athlete{i + 1}" for i in range(n_athletes)]
    rounds = max(1, math.ceil(args.seconds / args.block))
    block_s = args.seconds / rounds
    print(f"\n== {label}: {2 * n_athletes} emulated sensors × {RATE_HZ:g} Hz = {2 * n_athletes * RATE_HZ:,.0f} "
          f"samples/s; {rounds} rounds of 3 blocks × {block_s:.1f} s (order rotated)"
          + (f"; the window switches athlete every {args.switch:g} s" if n_athletes > 1 else "") + " ==", flush=True)
    needed_s = max(args.warmup, 12.0) + 3 * rounds * (block_s + SETTLE_S) + 15.0
    reps = args.reps or max(1, math.ceil((needed_s - SESSION_EXTRA_S) / REP_CYCLE_S))
    sources = {name: CountedSource("gaitmon_diy", "swing_plateau", seed=i + 1, rate_hz=RATE_HZ, realtime=True,
                                   sim_options={"n_reps": reps})
               for i, name in enumerate(names)}
    folders = {name: base / f"{n_athletes}x_{name}" for name in names}
    errors: list[str] = []
    origin: list[float] = []  # time.monotonic() of the engine's session-clock zero

    def on_tick(session_s: float) -> None:
        zero = time.monotonic() - session_s  # the engine's asyncio loop clock is time.monotonic()
        if not origin or zero < origin[0]:
            origin[:] = [zero]

    started = time.perf_counter()
    engine = Engine(sources, sessions_dir=base, record=True, history_db=False, on_error=errors.append,
                    on_message=lambda message: None, on_tick=on_tick, folders=folders)
    session_s = min(float(s.made.session.samples["left"][0][-1]) for s in sources.values())
    print(f"simulated {reps}-rep sessions of {session_s:.0f} s ({time.perf_counter() - started:.1f} s); "
          f"recording into {base}", flush=True)
    if session_s < needed_s - 10.0:
        raise SystemExit(f"--reps {reps} gives a {session_s:.0f} s session; this run needs ≥ {needed_s - 10:.0f} s")

    phases = {name: Phase(name) for name in (ALONE, LIVE, FREE)}
    switch = args.switch if n_athletes > 1 else None
    windows: list[DashboardWindow] = []
    try:
        try:
            engine.start()
            t0 = time.perf_counter()
            live = DashboardWindow(engine)  # the normal window: its timer at FPS
            free = DashboardWindow(engine, fps=0)  # a 0 ms timer
            windows += [live, free]
            for window in windows:
                window.resize(*SIZE)
            modes = {ALONE: None, LIVE: Frames(live, switch, keep_first=math.ceil(KEEP / rounds), period_s=1.0 / FPS),
                     FREE: Frames(free, switch)}
            streaming_after = None
            while True:  # warm-up: at least --warmup s, every sensor streaming and every trace showing data
                snaps = [engine.snapshot(name) for name in names]
                health = [s for snap in snaps for s in snap.health]
                if streaming_after is None and len(health) == 2 * n_athletes and all(
                        s.state == "streaming" and s.samples for s in health):
                    streaming_after = time.perf_counter() - t0
                traced = all(len(snap.legs) == 2 and all(len(leg.t) for leg in snap.legs.values()) for snap in snaps)
                if streaming_after is not None and traced and time.perf_counter() - t0 >= args.warmup:
                    break
                if time.perf_counter() - t0 > args.warmup + WARMUP_LIMIT_S:
                    raise RuntimeError(f"not every sensor streamed with traces on screen within {WARMUP_LIMIT_S:g} s: "
                                       + "; ".join(engine.status_line(n) for n in names))
                run_loop(0.05)
            print(f"warm-up {time.perf_counter() - t0:.1f} s: all sensors streaming after {streaming_after:.1f} s, "
                  "traces on screen (the sagittal axis is found in the first strides)", flush=True)
            order = list(modes)
            for k in range(rounds):
                for name in order[k % 3:] + order[:k % 3]:
                    block(phases[name], block_s, modes[name])
                print(f"  round {k + 1}/{rounds} done", flush=True)
        finally:
            stopping = time.perf_counter()
            engine.stop(timeout_s=120.0)
            print(f"engine.stop() took {time.perf_counter() - stopping:.1f} s (recordings closed, their tables "
                  "and reports written in the engine thread)", flush=True)
        if not engine.wait(0):
            errors.append("the engine thread did not end within 120 s of stop()")

        kept = phases[LIVE].kept
        if kept:  # baseline 2: the kept snapshots drawn again, in order, unthrottled, nothing else running
            drawn = phases[DRAWN] = Phase(DRAWN)
            window = DashboardWindow(engine, fps=0)  # a new one: no state left from the other modes
            windows.append(window)
            window.resize(*SIZE)
            frames = Frames(window)
            frames.activate()
            run_loop(SETTLE_S)
            frames.reset()
            frames.start_replay([snap for _, snap in kept], None)
            frames.measuring = True
            meter = Meter()
            meter.begin()
            run_loop(len(kept) * 2.0, frames)
            meter.end(drawn.usage)
            frames.measuring = False
            drawn.add(frames.collect(time.perf_counter()))
            frames.deactivate()
    finally:
        for window in windows:
            dispose(window)

    checks, lags = check_recordings(engine, sources, folders)
    if origin:
        for phase in phases.values():
            if phase.name == DRAWN:
                continue
            spans = [(a - origin[0], b - origin[0]) for a, b in phase.usage.spans]
            parts = [lag[np.any([(t >= a) & (t < b) for a, b in spans], axis=0)] for t, lag in lags]
            phase.lag_ms = np.concatenate(parts) if parts else None
    return CaseResult(label, n_athletes, phases, checks, engine.failure, errors)


# -- printing ----------------------------------------------------------------------------------------------


def _f(value: float, fmt: str = "{:.1f}") -> str:
    return "–" if value is None or not math.isfinite(value) else fmt.format(value)


def _lag(phase: Phase | None, q: float) -> float:
    lag = phase.lag_ms if phase is not None else None
    return float(np.percentile(lag, q)) if lag is not None and len(lag) else math.nan


def print_case(result: CaseResult) -> None:
    phases = result.phases
    print(f"\n{result.label}: frames, times (ms), CPU (% of one core) and stream lag (ms) per mode")
    print(f"{'mode':18s} {'wall s':>6s} {'frames':>6s} {'fps':>5s} {'frame med':>9s} {'p95':>6s} {'max':>5s} "
          f"{'refresh med/p95':>15s} {'paint med/p95':>13s} {'syncs/fr':>8s} {'process':>7s} {'GUI':>4s} "
          f"{'engine':>6s} {'analysis':>8s} {'others':>6s} {'lag p50/p99/max':>15s}")
    for phase in phases.values():
        u = phase.usage
        has = bool(phase.frames)
        lag = (f"{_lag(phase, 50):.1f}/{_lag(phase, 99):.1f}/{_lag(phase, 100):.0f}"
               if phase.lag_ms is not None and len(phase.lag_ms) else "–")
        refresh = f"{_f(phase.ms(50, phase.refresh))}/{_f(phase.ms(95, phase.refresh))}" if has else "–"
        paint = f"{_f(phase.ms(50, phase.paint))}/{_f(phase.ms(95, phase.paint))}" if has else "–"
        per_frame = f"{phase.syncs_in / len(phase.frames):.2f}" if has else "–"
        print(f"{phase.name:18s} {u.wall:6.1f} {len(phase.frames) if has else '–':>6} {_f(phase.fps):>5s} "
              f"{_f(phase.ms(50)):>9s} {_f(phase.ms(95)):>6s} {_f(phase.ms(100), '{:.0f}'):>5s} {refresh:>15s} "
              f"{paint:>13s} {per_frame:>8s} {u.pct('process'):>7s} {u.pct('gui'):>4s} "
              f"{u.pct('gaitmon-engine'):>6s} {u.pct('gaitmon-analysis'):>8s} {u.pct('others'):>6s} {lag:>15s}")
    print("  frames by what they redrew — count: median/p95/max ms")
    for phase in phases.values():
        if phase.frames:
            kinds, times = np.array(phase.kinds), np.asarray(phase.frames)
            parts = []
            for kind, label in KINDS.items():
                chosen = list(times[kinds == kind])
                if chosen:
                    parts.append(f"{label} {len(chosen)}: {phase.ms(50, chosen):.1f}/{phase.ms(95, chosen):.1f}/"
                                 f"{phase.ms(100, chosen):.0f}")
            print(f"    {phase.name:18s} " + " · ".join(parts))
    others = max((p.usage.share("others") for p in phases.values() if p.name != DRAWN), default=math.nan)
    if others > 0.2:
        print(f"  note: other processes used up to {100 * others:.0f} % of a core during these blocks (shared machine)")
    untimed = sum(p.untimed for p in phases.values())
    if untimed:
        print(f"  note: {untimed} paint event(s) of the window outside a timed sync (not in the frame times)")
    alone, live, free, drawn = (phases.get(name) for name in (ALONE, LIVE, FREE, DRAWN))
    print(f"  drawing's CPU cost: process CPU {LIVE} ÷ {ALONE} = "
          f"{live.usage.share('process') / alone.usage.share('process'):.2f}× ({alone.usage.pct('process')} % → "
          f"{live.usage.pct('process')} % of a core); unthrottled "
          f"{free.usage.share('process') / alone.usage.share('process'):.2f}× ({free.usage.pct('process')} %)")
    if drawn is not None and drawn.frames:
        same = [t for t, _ in live.kept]
        print(f"  the same {len(same)} snapshots, frame time live @{FPS:g} fps ÷ drawn alone (engine stopped): median "
              f"{live.ms(50, same) / drawn.ms(50):.2f}× ({drawn.ms(50):.1f} → {live.ms(50, same):.1f} ms), p95 "
              f"{live.ms(95, same) / drawn.ms(95):.2f}× ({drawn.ms(95):.1f} → {live.ms(95, same):.1f} ms)")
    print("  recording check (after engine.stop(); no link faults configured, so any loss would be ours):")
    for c in result.checks:
        print(f"    {c.athlete}/{c.role:5s}: sent {c.sent:,} samples ({c.notifications:,} notifications, "
              f"{c.faults} faults) | live {c.live_samples:,}, lost {c.live_lost} | journal {c.journal_samples:,} "
              f"({c.journal_packets:,} records) | replayed {c.replay_samples:,}, lost {c.replay_lost} "
              f"-> dropped: {c.dropped}" + ("" if c.ok else "   <-- LOSS OR MISMATCH"))
    if result.failure is not None:
        print(f"  ENGINE FAILED: {type(result.failure).__name__}: {result.failure}")
    for error in result.errors:
        print(f"  engine error: {error}")


def print_summary(results: list[CaseResult], args) -> bool:
    """The summary table and the target; True when a sample was lost (or the engine failed)."""
    print(f"\nSUMMARY ({args.seconds:g} s per mode; CPU in % of one core; frame = refresh + its paint, ms)")
    print(f"{'case':10s} {'alone CPU':>9s} | {'@30 fps':>7s} {'med':>5s} {'p95':>5s} {'CPU':>4s} {'GUI':>4s} "
          f"{'÷alone':>6s} {'lag p99':>7s} | {'unthr. fps':>10s} {'p95':>5s} {'CPU':>4s} | {'drawn alone p95':>15s} | "
          f"{'dropped':>7s}")
    failed = False
    for result in results:
        p = result.phases
        alone, live, free, drawn = (p.get(name) for name in (ALONE, LIVE, FREE, DRAWN))
        bad = [c for c in result.checks if not c.ok]
        failed |= bool(bad) or result.failure is not None or not result.checks
        dropped = sum(c.dropped for c in result.checks)
        print(f"{result.label:10s} {alone.usage.pct('process') + ' %':>9s} | {_f(live.fps):>7s} {_f(live.ms(50)):>5s} "
              f"{_f(live.ms(95)):>5s} {live.usage.pct('process'):>4s} {live.usage.pct('gui'):>4s} "
              f"{live.usage.share('process') / alone.usage.share('process'):5.1f}× {_f(_lag(live, 99)):>7s} | "
              f"{_f(free.fps):>10s} {_f(free.ms(95)):>5s} {free.usage.pct('process'):>4s} | "
              f"{_f(drawn.ms(95) if drawn else math.nan):>15s} | {str(dropped) + ('!' if bad else ''):>7s}")
    one = next((r for r in results if r.n_athletes == 1), None)
    if one is not None:
        live = one.phases[LIVE]
        met = live.fps >= TARGET_FPS - FPS_RESOLUTION and live.ms(95) <= TARGET_P95_MS
        print(f"target (1 athlete, {LIVE}): ≥ {TARGET_FPS:g} fps and p95 frame ≤ {TARGET_P95_MS:g} ms: "
              f"{'PASS' if met else 'MISS'} ({live.fps:.2f} fps, {live.missed} of {live.intervals + live.missed} "
              f"frames of the {FPS:g} fps pace missed; p95 {live.ms(95):.1f} ms)")
    return failed


# -- long session on the virtual clock (--long) ---------------------------------------------------------------

#: The long session: its simulated sessions (looped by the emulated devices), and how often the batch
#: analysis (the specification, what the model re-ran every 0.5 s before issue #17) is timed beside it.
LONG_SIM = {"n_reps": 10}
BATCH_EVERY_S = 60.0


@dataclass
class LongWindow:
    """One measured stretch of the long session (session-clock seconds ``start_s`` to ``end_s``)."""

    name: str
    start_s: float
    end_s: float
    frames: list[float] = field(default_factory=list)  # s: refresh() (or next_athlete()) + the paint it causes
    wall: float = 0.0
    cpu: float = 0.0
    runs: list[float] = field(default_factory=list)  # s per analysis run, every athlete
    batch: list[float] = field(default_factory=list)  # s per batch analyse() of athlete1's events so far
    same: int = 0  # batch results equal to the model's shown analysis
    steps: int = 0
    reps: int = 0

    def ms(self, values: list[float], q: float) -> float:
        return float(np.percentile(np.asarray(values) * 1e3, q)) if values else math.nan

    @property
    def fps(self) -> float:
        return len(self.frames) / self.wall if self.wall else math.nan


def _analysis_view(analysis) -> tuple:
    """What an Analysis shows, comparable (NaN → None)."""
    def plain(v):
        return None if isinstance(v, float) and math.isnan(v) else v
    rows = tuple(tuple(plain(v) for v in dataclasses.astuple(row)) for row in analysis.reps)
    latest = {side: tuple(plain(v) for v in step.as_row().values()) for side, step in analysis.latest.items()}
    flags = tuple(tuple(plain(v) for v in row.values()) for row in analysis.strength.flag_rows())
    return rows, latest, flags, analysis.current_rep, analysis.current_rep_over


def run_long(args) -> int:
    """A ``--long-minutes`` emulated session of ``--long-athletes`` athletes on the engine's virtual clock,
    in this one thread: the engine processes every notification and runs each model's analysis in place;
    in the first and the last ``--measure-minutes`` the dashboard window draws a frame every 1/30 s of
    session time (refresh() or an athlete switch every ``--switch`` s, and the paint Qt does for it,
    timed together). Frames per second = frames ÷ wall time of that stretch, the engine's work for the
    same session time included (a live run shares one interpreter lock the same way), so ≥ 30 means
    the window keeps its 30 fps pace in real time.
    """
    from gaitmon.engine.model import AnalysisRun, analyse

    names = [f"athlete{i + 1}" for i in range(args.long_athletes)]
    total_s, measure_s = args.long_minutes * 60.0, args.measure_minutes * 60.0
    windows = [LongWindow(f"first {args.measure_minutes:g} min", 0.0, measure_s),
               LongWindow(f"last {args.measure_minutes:g} min", total_s - measure_s, total_s)]
    sim = dict(LONG_SIM, recovery_s=args.recovery)
    sources = {name: EmulatedSource("gaitmon_diy", "swing_plateau", seed=i + 1, rate_hz=args.rate, realtime=False,
                                    duration_s=total_s + 1.0, sim_options=sim)  # the devices loop the session
               for i, name in enumerate(names)}
    print(f"\n== long session: {len(names)} athletes × 2 emulated sensors × {args.rate:g} Hz, {args.long_minutes:g} min "
          f"on the virtual clock (simulated {sim['n_reps']}-rep sessions with {args.recovery:g} s walking recovery, "
          f"looped by the devices); window {SIZE[0]}×{SIZE[1]} drawing {FPS:g} frames per session second in the "
          f"first and last {args.measure_minutes:g} min ==", flush=True)

    runs: list[tuple[float, float]] = []  # (session s, analysis run s), every model
    latest: dict[str, AnalysisRun] = {}  # athlete → the latest analysis run

    def heard(athlete: str, run: AnalysisRun) -> None:
        runs.append((run.now_s, run.seconds))
        if athlete not in latest or run.now_s >= latest[athlete].now_s:
            latest[athlete] = run

    engine = Engine(sources, record=False, history_db=False, on_message=lambda message: None,
                    on_tick=lambda session_s: on_tick(session_s), on_analysis=heard)
    window = DashboardWindow(engine)
    window.resize(*SIZE)
    app = QtCore.QCoreApplication.instance()
    state = {"loop": None, "origin": None, "current": None, "next_switch": 0.0, "next_batch": 0.0, "bins": {},
             "wall0": time.perf_counter()}

    def frame() -> None:
        loop = state["loop"]
        session_s = loop.time() - state["origin"]
        current = state["current"]
        if current is not None:
            t0 = time.perf_counter()
            if session_s >= state["next_switch"]:
                state["next_switch"] = session_s + args.switch
                window.next_athlete()
            else:
                window.refresh()
            app.processEvents()  # delivers the window's UpdateRequest: the paint
            current.frames.append(time.perf_counter() - t0)
            loop.call_later(1.0 / FPS, frame)

    def begin(w: LongWindow) -> None:
        state["current"] = w
        state["runs_from"] = len(runs)
        window.show()
        app.processEvents()  # the first, full paint (not counted)
        state["t0"], state["cpu0"] = time.perf_counter(), time.process_time()
        state["next_switch"] = w.start_s + args.switch
        state["next_batch"] = w.start_s + BATCH_EVERY_S / 2
        state["loop"].call_later(1.0 / FPS, frame)

    def end(w: LongWindow) -> None:
        w.wall, w.cpu = time.perf_counter() - state["t0"], time.process_time() - state["cpu0"]
        w.runs = [r for _, r in runs[state["runs_from"]:]]
        state["current"] = None
        window.hide()
        app.processEvents()

    def batch_check(w: LongWindow) -> None:
        """The batch analysis of the events athlete1's latest live analysis rested on (what the model
        ran before issue #17), timed (off the window's clocks), and compared with that analysis."""
        paused = time.perf_counter(), time.process_time()
        run = latest.get(names[0])
        if run is not None and run.analysis.strength is not None:
            live = engine.live(names[0])
            t0 = time.perf_counter()
            spec = analyse(live.events[:run.events], live.legs, run.now_s, engine.model(names[0]).calibration)
            w.batch.append(time.perf_counter() - t0)
            w.same += _analysis_view(spec) == _analysis_view(run.analysis)
            w.steps, w.reps = run.steps, len(run.analysis.reps)
        state["t0"] += time.perf_counter() - paused[0]
        state["cpu0"] += time.process_time() - paused[1]

    def on_tick(session_s: float) -> None:
        if state["loop"] is None:
            import asyncio
            state["loop"] = asyncio.get_running_loop()
            state["origin"] = state["loop"].time() - session_s
        current = state["current"]
        if current is None:
            for w in windows:
                if w.start_s <= session_s < w.end_s and not w.frames and not w.wall:
                    begin(w)
        elif session_s >= current.end_s:
            end(current)
        elif session_s >= state["next_batch"]:
            state["next_batch"] += BATCH_EVERY_S
            batch_check(current)
        minute = int(session_s // 600)  # 10-min bin
        if minute not in state["bins"]:
            state["bins"][minute] = len(runs)
            if minute:
                print(f"  session {session_s / 60:5.1f} min after {time.perf_counter() - state['wall0']:6.0f} s wall",
                      flush=True)
        if session_s >= total_s:
            engine.stop(timeout_s=0)

    try:
        engine.run_to_end()
        if state["current"] is not None:
            end(state["current"])
    finally:
        dispose(window)
    if engine.failure is not None:
        print(f"ENGINE FAILED: {engine.failure}")
        return 1

    print(f"\nlong session: {len(names)} athletes, {args.long_minutes:g} min in {time.perf_counter() - state['wall0']:.0f} s "
          f"wall; frame = refresh() (or next_athlete()) + the paint it causes; fps = frames ÷ wall time with the "
          f"engine's work for the same session time in the same thread; analysis = one model's run (new events in, "
          f"the Analysis out); batch = analyse() of athlete1's events so far, the specification (what the model "
          f"re-ran before), every {BATCH_EVERY_S:g} s of session time")
    print(f"{'stretch':14s} {'wall s':>6s} {'CPU s':>6s} {'frames':>6s} {'fps':>5s} {'frame med':>9s} {'p95':>5s} "
          f"{'max':>5s} | {'analysis runs':>13s} {'med':>5s} {'p95':>5s} {'max':>5s} | {'batch med ms':>12s} "
          f"{'÷ live med':>10s} {'same':>5s} | {'steps':>6s} {'reps':>4s}")
    for w in windows:
        ratio = w.ms(w.batch, 50) / w.ms(w.runs, 50) if w.runs and w.batch else math.nan
        print(f"{w.name:14s} {w.wall:6.1f} {w.cpu:6.1f} {len(w.frames):6d} {_f(w.fps):>5s} {_f(w.ms(w.frames, 50)):>9s} "
              f"{_f(w.ms(w.frames, 95)):>5s} {_f(w.ms(w.frames, 100), '{:.0f}'):>5s} | {len(w.runs):13d} "
              f"{_f(w.ms(w.runs, 50), '{:.2f}'):>5s} {_f(w.ms(w.runs, 95), '{:.2f}'):>5s} "
              f"{_f(w.ms(w.runs, 100), '{:.1f}'):>5s} | {_f(w.ms(w.batch, 50)):>12s} {_f(ratio, '{:.0f}×'):>10s} "
              f"{w.same:>2d}/{len(w.batch):<2d} | {w.steps:6d} {w.reps:4d}")
    bounds = sorted(state["bins"].items())
    medians = []
    for (minute, start), (_, stop) in zip(bounds, bounds[1:] + [(None, len(runs))]):
        chosen = [r for _, r in runs[start:stop]]
        if chosen:
            medians.append(f"{minute * 10:.0f}′ {np.median(chosen) * 1e3:.2f}/{np.percentile(chosen, 95) * 1e3:.2f}")
    print("analysis ms per run, median/p95 per 10 min of session: " + " · ".join(medians))
    first, last = windows
    flat = last.ms(last.runs, 50) / first.ms(first.runs, 50) if first.runs and last.runs else math.nan
    print(f"analysis cost, last ÷ first stretch (median per run): {_f(flat, '{:.2f}')}×")
    met = all(w.fps >= TARGET_FPS and w.ms(w.frames, 95) <= TARGET_P95_MS for w in windows)
    print(f"target ({len(names)} athletes, {args.long_minutes:g} min): ≥ {TARGET_FPS:g} fps and p95 frame ≤ "
          f"{TARGET_P95_MS:g} ms in the first and the last {args.measure_minutes:g} min: {'PASS' if met else 'MISS'} ("
          + "; ".join(f"{w.name} {w.fps:.1f} fps, p95 {w.ms(w.frames, 95):.1f} ms" for w in windows) + ")")
    mismatched = sum(len(w.batch) - w.same for w in windows)
    if mismatched:
        print(f"LIVE ANALYSIS DIFFERS FROM THE BATCH ANALYSIS at {mismatched} check(s)")
    return 1 if mismatched else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per mode (default 30)")
    parser.add_argument("--quick", action="store_true", help="10 s per mode")
    parser.add_argument("--block", type=float, default=5.0, help="seconds per block; modes take turns (default 5)")
    parser.add_argument("--athletes", type=int, nargs="+", default=[1, 3],
                        help="cases: athletes in one engine (default 1 3)")
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="least unmeasured seconds after the engine starts (default 5)")
    parser.add_argument("--switch", type=float, default=3.0, help="seconds between athlete switches (default 3)")
    parser.add_argument("--reps", type=int, default=0, help="reps of the simulated sessions (default: enough)")
    parser.add_argument("--keep", type=Path, help="keep the recorded sessions in this folder")
    parser.add_argument("--long", action="store_true",
                        help="instead: the long session on the virtual clock (--long-minutes, --long-athletes)")
    parser.add_argument("--long-minutes", type=float, default=120.0, help="long session length, min (default 120)")
    parser.add_argument("--long-athletes", type=int, default=3, help="athletes of the long session (default 3)")
    parser.add_argument("--measure-minutes", type=float, default=10.0,
                        help="measured minutes at the start and the end of the long session (default 10)")
    parser.add_argument("--rate", type=float, default=RATE_HZ, help="long session's sample rate, Hz (default 1000)")
    parser.add_argument("--recovery", type=float, default=30.0,
                        help="long session: walking recovery between reps, s (default 30)")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 10.0

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    qt_messages: list[str] = []

    def on_qt_message(mode, context, message) -> None:
        qt_messages.append(f"{str(mode).split('.')[-1]}: {message}")

    QtCore.qInstallMessageHandler(on_qt_message)
    app = application(offscreen=True)
    app.setQuitOnLastWindowClosed(False)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    print(f"dashboard benchmark: {os.cpu_count()} cores, load average {load[0]:.2f} at start; Python "
          f"{platform.python_version()} (GIL, switch interval {sys.getswitchinterval() * 1e3:g} ms); "
          f"{pg.Qt.QT_LIB} {pg.Qt.QtVersion}, pyqtgraph {pg.__version__}, Qt platform {app.platformName()}; "
          f"window {SIZE[0]}×{SIZE[1]}" + ("" if args.long else f"; {args.seconds:g} s per mode"))
    if args.long:
        return run_long(args)
    print("frame = one timeout of the window's own redraw QTimer: refresh() (next_athlete() on a switch frame, "
          "render(snapshot, parts_per_frame=1) when drawing alone) and the paint Qt does right after it (the window's "
          "UpdateRequest, timed where Qt delivers it); 'frame' = timer callback to the end of that paint; "
          "'refresh' = refresh() alone (= window.frame_times); 'paint' = painting per frame; 'syncs/fr' = "
          "paints per frame")

    started = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="gaitmon-bench-dashboard-"))
    results: list[CaseResult] = []
    try:
        for n in args.athletes:
            result = run_case(n, args, base)
            print_case(result)
            results.append(result)
    finally:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            for folder in base.iterdir():
                shutil.move(str(folder), str(args.keep / folder.name))
        shutil.rmtree(base, ignore_errors=True)

    failed = print_summary(results, args)
    print(f"samples: {'none dropped' if not failed else 'LOSS, MISMATCH OR ENGINE FAILURE (see above)'}; "
          f"load average {os.getloadavg()[0]:.2f} at the end; total {time.perf_counter() - started:.0f} s")
    print("Qt messages: " + ("none" if not qt_messages else f"{len(qt_messages)}"))
    for message in dict.fromkeys(qt_messages):
        print(f"  {message}  (×{qt_messages.count(message)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
