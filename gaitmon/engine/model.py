"""What the coach's screen shows, without Qt: one :class:`DashboardModel` per athlete.

Two threads meet here. The **engine side** (the acquisition loop, or a replay thread) feeds the
model: it is the :class:`~gaitmon.stream.live.LiveSession`'s projection listener, so the
``(t, ω, |a|)`` each leg's step core was fed go into preallocated ring buffers — the traces show
exactly what the detector saw, projected once — and
:meth:`DashboardModel.update` brings in events, gaps, sensor health, recording state and the
session time. The **GUI side** calls :meth:`DashboardModel.snapshot` on a timer and gets an
immutable :class:`Snapshot`: copied, read-only arrays and frozen records, nothing shared with the
engine. One lock guards the shared state and is held only for short copies; the engine never waits
for the GUI.

Analysis (the step table, reps and flags of :func:`gaitmon.analysis.strength_balance` with
``now_s``) is specified by a pure function of the events (:func:`analyse`); live, a
:class:`LiveAnalysis` gives the same result from the events that came in since its last run: the
steps near them are rebuilt, closed reps stay as they were, each flag assessment is made once, so
a run costs the same after two hours as after two minutes. When the athlete has a calibration in
the history (:func:`gaitmon.session.history.saved_calibration`, given to the model), the step table
is corrected by it before anything else, so every number on screen is calibrated, and the snapshot
says so (:attr:`Snapshot.calibration`). It runs at most every ``analysis_interval_s`` of session
time, and only when events came in since the last run or a rep may just have ended (no step for
``REP_SETTLE_S``). Where it runs is the engine's choice (``schedule``): in a worker thread live, in
place on a virtual clock and in tests.

Frames and units
----------------
Times are seconds on the session clock. ``omega`` is the sagittal shank angular velocity (rad/s,
forward swing positive, see :mod:`gaitmon.consts`); ``acc`` is the accelerometer magnitude (m/s²,
specific force: ~9.81 at rest). Swing-side and push-side outputs are in % change from the leg's own
first rep (median of its top-speed steps), with trend lines, by the one convention of
:mod:`gaitmon.analysis.balance` that the flags test and the report draws.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from gaitmon.analysis import (REP_SETTLE_S, Flag, LiveStrengthBalance, Rep, StrengthBalance, segment_reps,
                              strength_balance)
from gaitmon.analysis.calibration import Calibration, apply_calibration, calibrate_steps, phase_bands
from gaitmon.analysis.balance import (PUSH, SWING, TrendLine, leg_medians, rep_points, rep_trend_line, step_points,
                                      step_trend_line)
from gaitmon.analysis.flags import SCALE_UNITS
from gaitmon.analysis.metrics import STEP_METRICS
from gaitmon.analysis.reps import LiveReps, running_bouts, same_objects
from gaitmon.events import GaitEvent
from gaitmon.stream.live import LiveSession, SensorStatus
from gaitmon.analysis.steps import Step, StepTable, build_steps

#: Trace seconds on screen (the model keeps ``window_s``, more).
VISIBLE_S = 5.0
#: Event kinds drawn on the traces.
MARKER_KINDS = ("TO", "MSW", "IC")


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


# -- ring buffer ------------------------------------------------------------------------------------


class TraceBuffer:
    """Preallocated ring of one leg's ``(t, ω, |a|)`` samples that always holds the newest ``span_s``.

    Not thread-safe: the model writes and copies it under its lock.

    Parameters
    ----------
    span_s : float
        Every sample within ``span_s`` of the newest one is kept.
    rate_hz : float
        Expected sample rate; the capacity grows (keeping the content) when more samples than that
        fall within ``span_s``.
    headroom : float
        Capacity over ``span_s × rate_hz`` (jitter in the time stamps).
    """

    def __init__(self, span_s: float, rate_hz: float, headroom: float = 1.25):
        self.span_s = float(span_s)
        self.headroom = headroom
        self._allocate(max(16, math.ceil(span_s * rate_hz * headroom)))

    def _allocate(self, capacity: int) -> None:
        self.t = np.empty(capacity)
        self.omega = np.empty(capacity)
        self.acc = np.empty(capacity)
        self.start = 0
        self.size = 0

    @property
    def capacity(self) -> int:
        return len(self.t)

    @property
    def newest_t(self) -> float:
        """Time of the newest sample (s); NaN when empty."""
        return float(self.t[(self.start + self.size - 1) % self.capacity]) if self.size else math.nan

    def _segments(self) -> list[slice]:
        """The stored samples, oldest first, as one or two slices of the arrays."""
        end = self.start + self.size
        if end <= self.capacity:
            return [slice(self.start, end)]
        return [slice(self.start, self.capacity), slice(0, end - self.capacity)]

    def _count_since(self, t_from: float) -> int:
        return sum(s.stop - s.start - int(np.searchsorted(self.t[s], t_from)) for s in self._segments())

    def append(self, t: np.ndarray, omega: np.ndarray, acc: np.ndarray) -> None:
        """Add samples (times after the stored ones); grows first if the newest span would not fit."""
        n, capacity = len(t), len(self.t)
        if n == 0:
            return
        dropped = self.size + n - capacity  # oldest samples the write pushes out
        if dropped > 0:
            t_from = t[-1] - self.span_s
            # the newest of them must be older than the span, else the ring is too small
            last_out = t[dropped - 1 - self.size] if dropped > self.size else \
                self.t[(self.start + dropped - 1) % capacity]
            if last_out >= t_from:
                needed = n - int(np.searchsorted(t, t_from)) + self._count_since(t_from)
                self._grow(max(2 * capacity, math.ceil(needed * self.headroom)))
                capacity = len(self.t)
        keep = min(n, capacity)
        t, omega, acc = t[n - keep:], omega[n - keep:], acc[n - keep:]
        write = (self.start + self.size) % capacity
        first = min(keep, capacity - write)
        for store, values in ((self.t, t), (self.omega, omega), (self.acc, acc)):
            store[write:write + first] = values[:first]
            store[:keep - first] = values[first:]
        overflow = max(0, self.size + keep - capacity)
        self.start = (self.start + overflow) % capacity
        self.size += keep - overflow

    def _grow(self, capacity: int) -> None:
        t, omega, acc = self.window(-math.inf)
        self._allocate(capacity)
        self.append(t, omega, acc)

    def window(self, t_from: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the stored samples with ``t >= t_from``, oldest first."""
        parts = []
        for s in self._segments():
            lo = s.start + int(np.searchsorted(self.t[s], t_from))
            parts.append(slice(lo, s.stop))
        return tuple(np.concatenate([a[p] for p in parts]) for a in (self.t, self.omega, self.acc))


# -- what a snapshot holds --------------------------------------------------------------------------


@dataclass(frozen=True)
class EventMarks:
    """Events of one kind on a trace: times (s) and the sagittal ω the core gave them (rad/s)."""

    t: np.ndarray
    value: np.ndarray


@dataclass(frozen=True)
class LegTrace:
    """One leg's visible window.

    Attributes
    ----------
    side : str
    t, omega, acc : ndarray
        Sample times (s), sagittal angular velocity (rad/s), accelerometer magnitude (m/s²). Empty
        until the sagittal axis is known (a stride or two of motion).
    markers : Mapping
        ``"TO"``, ``"MSW"``, ``"IC"`` → :class:`EventMarks` inside the window.
    gaps : tuple of (float, float)
        Missing stretches (last sample before, first after, s) overlapping the window.
    """

    side: str
    t: np.ndarray
    omega: np.ndarray
    acc: np.ndarray
    markers: Mapping[str, EventMarks]
    gaps: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class RepRow:
    """One line of the rep table: the rep's top-speed medians (per leg where it says so) and its flags.

    ``flags`` names the flags raised on this rep (e.g. ``"swing plateau (both legs, reps)"``);
    ``alarm`` is true when one of them is a swing or push plateau.
    """

    rep: int
    start_s: float
    end_s: float
    n_steps: int
    swing_left_rad_s: float
    swing_right_rad_s: float
    push_left_bw: float
    push_right_bw: float
    contact_s: float
    flight_s: float
    step_hz: float
    asymmetry_swing_pct: float
    asymmetry_push_pct: float
    flags: tuple[str, ...]
    alarm: bool


@dataclass(frozen=True)
class Series:
    """Points of one output of one leg (x: rep number or leg step number; y: % change from the first rep).

    ``trend`` is a :class:`~gaitmon.analysis.balance.TrendLine` (source ``"meta_regression"`` across
    reps, ``"theil_sen"`` across steps), or None.
    """

    x: np.ndarray
    y: np.ndarray
    trend: TrendLine | None


@dataclass(frozen=True)
class LegBalance:
    """Swing-side and push-side output of one leg, across reps and across the current rep's steps."""

    side: str
    reps_swing: Series
    reps_push: Series
    steps_swing: Series
    steps_push: Series


@dataclass(frozen=True)
class Banner:
    """The flag to show: its plain sentence and what it rests on."""

    message: str
    evidence: str
    kind: str
    side: str
    scale: str
    rep: int
    alarm: bool


@dataclass(frozen=True)
class RecordingState:
    """``state``: ``"off"`` (not recording), ``"recording"``, ``"stopped"`` (saved), ``"failed"`` or
    ``"replay"``; ``folder`` the session folder (or the one replayed); ``error`` why it failed."""

    state: str = "off"
    folder: str = ""
    error: str = ""


@dataclass(frozen=True)
class HeldNumbers:
    """What the big numbers show (:func:`big_numbers`).

    Attributes
    ----------
    rep : int or None
        The rep whose top-speed medians they are (between reps), or None: each leg's latest step.
    values : Mapping
        side → metric key (:data:`~gaitmon.analysis.metrics.STEP_METRICS`) → value in SI units
        (s, Hz, rad/s, body weights); NaN where unknown.
    """

    rep: int | None
    values: Mapping[str, Mapping[str, float]]


NO_NUMBERS = HeldNumbers(None, MappingProxyType({}))


@dataclass(frozen=True)
class Analysis:
    """Everything derived from the events at one session time (see :func:`analyse`)."""

    now_s: float
    latest: Mapping[str, Step]
    numbers: HeldNumbers
    reps: tuple[RepRow, ...]
    balance: Mapping[str, LegBalance]
    current_rep: int | None
    current_rep_over: bool
    banner: Banner | None
    strength: StrengthBalance | None  # the reps and flags behind the views


EMPTY_ANALYSIS = Analysis(math.nan, MappingProxyType({}), NO_NUMBERS, (), MappingProxyType({}), None, False, None, None)


@dataclass(frozen=True)
class Snapshot:
    """What the screen shows at one moment (immutable; arrays are read-only copies).

    Attributes
    ----------
    athlete : str
    session_s : float
        Session-clock time, s.
    t_start, t_end : float
        The visible window, s.
    legs : Mapping
        side → :class:`LegTrace`.
    latest : Mapping
        side → the leg's latest complete :class:`Step` (:func:`latest_steps`).
    numbers : HeldNumbers
        What the big numbers show: the latest steps while a rep is run, the last rep's top-speed
        medians between reps (:func:`big_numbers`).
    reps : tuple of RepRow
        Finished reps, in order.
    balance : Mapping
        side → :class:`LegBalance`.
    current_rep : int or None
        The rep whose steps ``balance[…].steps_*`` show; ``current_rep_over`` False while it is run.
    banner : Banner or None
        The latest alarm raised in this session (else the latest flag), or None.
    health : tuple of SensorStatus
        Copies, one per sensor.
    recording : RecordingState
    marks : tuple of float
        Reps marked by hand, session-clock s.
    analysed_s : float
        Session time of the analysis shown (NaN before the first).
    calibration : str
        What corrected the step durations (:meth:`Calibration.describe
        <gaitmon.analysis.calibration.Calibration.describe>`), or "" when they are as detected.
    """

    athlete: str
    session_s: float
    t_start: float
    t_end: float
    legs: Mapping[str, LegTrace]
    latest: Mapping[str, Step]
    numbers: HeldNumbers
    reps: tuple[RepRow, ...]
    balance: Mapping[str, LegBalance]
    current_rep: int | None
    current_rep_over: bool
    banner: Banner | None
    health: tuple[SensorStatus, ...]
    recording: RecordingState
    marks: tuple[float, ...]
    analysed_s: float
    calibration: str = ""


# -- analysis: pure functions of the events ---------------------------------------------------------


#: What a step must have for the big numbers (contact ends at TO, flight at the other leg's IC).
COMPLETE = ("contact_s", "flight_s", "push_force_bw", "swing_peak_rad_s")


def latest_steps(steps: Sequence[Step]) -> dict[str, Step]:
    """side → its last complete step (all of :data:`COMPLETE` known), else its last step.

    A step's numbers fill in over the next ~0.3 s (toe-off, the other leg's landing); showing the
    last complete one keeps the big numbers from blinking to "–" between steps.
    """
    latest: dict[str, Step] = {}
    for step in steps:
        complete = all(math.isfinite(getattr(step, key)) for key in COMPLETE)
        if complete or step.side not in latest:
            latest[step.side] = step
    return latest


def big_numbers(latest: Mapping[str, Step], reps: Sequence[Rep], current_rep_over: bool) -> HeldNumbers:
    """What the big numbers show: each leg's ``latest`` step while a rep is run (and before the first
    rep ends); between reps — the last rep is over and no running bout followed it (:func:`current_run`:
    the walk-back) — the last rep's top-speed medians per leg (:meth:`Rep.summary
    <gaitmon.analysis.reps.Rep.summary>`), so the sprint's values stay up until the next one starts.
    """
    if current_rep_over and reps:
        rep = reps[-1]
        sides = sorted({step.side for step in rep.steps})
        return HeldNumbers(rep.number, MappingProxyType(
            {side: MappingProxyType({m.key: rep.summary(side)[m.key] for m in STEP_METRICS}) for side in sides}))
    return HeldNumbers(None, MappingProxyType(
        {side: MappingProxyType({m.key: getattr(step, m.key) for m in STEP_METRICS}) for side, step in latest.items()}))


def flag_label(flag: Flag) -> str:
    """Short name of a flag for the rep table, e.g. ``"swing plateau (left leg, reps)"``."""
    who = "both legs" if flag.side == "both" else f"{flag.side} leg"
    return f"{flag.kind.replace('_', ' ')} ({who}, {flag.scale})"


def raised_on(flags: Sequence[Flag]) -> dict[int, tuple[Flag, ...]]:
    """rep number → the flags raised on it, in order."""
    raised: dict[int, list[Flag]] = {}
    for flag in flags:
        raised.setdefault(flag.rep, []).append(flag)
    return {rep: tuple(found) for rep, found in raised.items()}


def rep_row(rep: Rep, flags: Sequence[Flag]) -> RepRow:
    """One line of the rep table: the rep's ``reps.csv`` rows (left, right, both) and the flags raised on it."""
    left, right, both = rep.table_rows()
    return RepRow(
        rep=rep.number, start_s=both["start_s"], end_s=both["end_s"], n_steps=both["n_steps"],
        swing_left_rad_s=left["swing_peak_rad_s"], swing_right_rad_s=right["swing_peak_rad_s"],
        push_left_bw=left["push_force_bw"], push_right_bw=right["push_force_bw"],
        contact_s=both["contact_s"], flight_s=both["flight_s"], step_hz=both["step_hz"],
        asymmetry_swing_pct=both["asymmetry_swing_pct"], asymmetry_push_pct=both["asymmetry_push_pct"],
        flags=tuple(flag_label(f) for f in flags), alarm=any(f.alarm for f in flags))


def rep_rows(balance: StrengthBalance) -> tuple[RepRow, ...]:
    """The rep table: one :func:`rep_row` per rep."""
    raised = raised_on(balance.flags)
    return tuple(rep_row(rep, raised.get(rep.number, ())) for rep in balance.reps)


def evidence(flag: Flag) -> str:
    """What a flag rests on, in one line: the window, the three slopes with their CIs, the SWCs."""
    unit = SCALE_UNITS[flag.scale]
    return (f"{flag.covers} ({flag.swing.n} {unit}s): swing {flag.swing.describe(unit)}; "
            f"push {flag.push.describe(unit)}; push − swing {flag.balance.describe(unit)}; "
            f"smallest worthwhile change: swing {flag.swing_swc:.1f} %, push {flag.push_swc:.1f} %")


def banner(flags: Sequence[Flag]) -> Banner | None:
    """The latest alarm, or when there is none the latest flag (``both_plateau`` is no alarm)."""
    if not flags:
        return None
    flag = ([f for f in flags if f.alarm] or list(flags))[-1]
    return Banner(flag.message, evidence(flag), flag.kind, flag.side, flag.scale, flag.rep, flag.alarm)


def _series(x, y, trend: TrendLine | None) -> Series:
    return Series(_read_only(np.asarray(x, float)), _read_only(np.asarray(y, float)), trend)


def current_run(steps: Sequence[Step], reps: Sequence[Rep]) -> tuple[int | None, bool, list[Step]]:
    """The run the steps panel follows: ``(rep number, over, its steps)``.

    A running bout after the last finished rep is the rep under way (number = finished + 1);
    without one, the last finished rep; before any, nothing.
    """
    after = reps[-1].steps[-1].ic_s if reps else -math.inf
    bouts = running_bouts([r for r in steps if r.ic_s > after])
    if bouts:
        return len(reps) + 1, False, bouts[-1]
    if reps:
        return reps[-1].number, True, reps[-1].steps
    return None, False, []


def leg_balance(side: str, reps: Sequence[Rep], run: Sequence[Step]) -> LegBalance:
    """One leg's outputs in % change from its first rep, with trend lines (:mod:`gaitmon.analysis.balance`).

    Across reps: each rep's top-speed median, and the leg's rep-scale trend over the last reps as the
    flag estimates it (:func:`rep_series`). Across the steps of ``run`` (the current rep): each step,
    with a Theil–Sen line (:func:`step_series`). While the first rep is under way its top-speed steps
    so far are the baseline.
    """
    return LegBalance(side, *rep_series(side, reps), *step_series(side, reps[:1], run))


def rep_series(side: str, reps: Sequence[Rep]) -> tuple[Series, Series]:
    """Swing and push of leg ``side`` across ``reps``: each rep's point and the rep-scale trend line."""
    return tuple(_series(*rep_points(reps, side, key), rep_trend_line(reps, side, key)) for key in (SWING, PUSH))


def step_series(side: str, first: Sequence[Rep], run: Sequence[Step]) -> tuple[Series, Series]:
    """Swing and push of leg ``side`` across the steps of ``run``, in % of the first rep (``first``:
    ``[reps[0]]``, or empty while the first rep is under way: its top-speed steps so far)."""
    rep = first[0] if first else next(iter(segment_reps(list(run), min_steps=1)), None)
    base = leg_medians(rep.top_speed if rep is not None else [])[side]
    out = []
    for key in (SWING, PUSH):
        x, y = step_points(run, side, key, base[key])
        out.append(_series(x, y, step_trend_line(x, y)))
    return tuple(out)


def analyse(events: Iterable[GaitEvent], sides: Iterable[str], now_s: float,
            calibration: Calibration | None = None) -> Analysis:
    """Steps, reps, flags and the views on them, as a live session at ``now_s`` has them (the
    specification of :class:`LiveAnalysis`, which the model runs).

    ``events`` and ``sides`` are :attr:`LiveSession.events` and its legs, so the step table is
    :meth:`LiveSession.steps` (corrected by ``calibration`` when given:
    :func:`~gaitmon.analysis.calibration.calibrate_steps`) and the reps and flags are
    ``strength_balance(steps, now_s=now_s)``.
    """
    sides = sorted(sides)
    steps = build_steps(sorted(events), sides=sides)
    if calibration is not None:
        steps = calibrate_steps(steps, calibration)
    balance = strength_balance(steps, now_s=now_s)
    number, over, run = current_run(steps, balance.reps)
    legs = {side: leg_balance(side, balance.reps, run) for side in sides}
    latest = latest_steps(steps)
    return Analysis(now_s, MappingProxyType(latest), big_numbers(latest, balance.reps, over), rep_rows(balance),
                    MappingProxyType(legs), number, over, banner(balance.flags), balance)


class LiveAnalysis:
    """:func:`analyse` of a growing event stream, from what changed since the last run.

    :meth:`add` takes the new events: the step table is rebuilt near them
    (:class:`~gaitmon.analysis.steps.StepTable`), calibrated where it or the raw reps' phase bands
    changed, and handed to a :class:`~gaitmon.analysis.LiveStrengthBalance`. :meth:`at` gives the
    :class:`Analysis` at a session time; each rep's table row is made once. Not thread-safe: the
    model runs one analysis at a time.

    Parameters
    ----------
    sides : iterable of str
        The legs of the session (:attr:`LiveSession.legs`).
    calibration : Calibration, optional
        Corrects the steps, as :func:`analyse`.
    """

    def __init__(self, sides: Iterable[str], calibration: Calibration | None = None):
        self.sides = sorted(sides)
        self.calibration = calibration
        self.fed = 0  # events taken so far (the model's count)
        self._raw = StepTable(self.sides)
        self._bands = LiveReps() if calibration is not None else None  # the raw steps' reps: phase bands
        self._band_reps: list[Rep] = []
        self._steps = self._raw.steps if calibration is None else []
        self._balance = LiveStrengthBalance()
        self._complete: dict[str, list[int]] = {}  # side → indices of its complete steps
        self._first: dict[str, int] = {}  # side → index of its first step
        self._rows: dict[int, tuple[Rep, tuple[Flag, ...], RepRow]] = {}
        self._rows_of: tuple[StrengthBalance, tuple[RepRow, ...]] | None = None  # the last balance, its rows
        # (scale, side) → (inputs, copies of them, series)
        self._series: dict[tuple, tuple[tuple, tuple, tuple[Series, Series]]] = {}

    def add(self, events: Sequence[GaitEvent]) -> None:
        """Take new events (any order)."""
        changed = self._raw.add(events)
        if self.calibration is not None:
            changed = self._calibrate(changed)
        self._balance.update(self._steps, changed)
        self._follow_latest(changed)

    def _calibrate(self, changed: int) -> int:
        """Recalibrate from the first step whose raw values or phase band changed; returns its index."""
        raw = self._raw.steps
        self._bands.update(raw, changed)
        reps = self._bands.reps()
        same = 0
        while same < min(len(reps), len(self._band_reps)) and reps[same] is self._band_reps[same]:
            same += 1
        for rep in reps[same:same + 1] + self._band_reps[same:same + 1]:
            changed = min(changed, self._raw.first_at(rep.steps[0].ic_s))
        self._band_reps = reps
        if changed < len(raw):
            t = raw[changed].ic_s
            bands = phase_bands([rep for rep in reps if rep.steps[-1].ic_s >= t])
            self._steps[changed:] = apply_calibration(raw[changed:], self.calibration, bands)
        else:
            del self._steps[changed:]
        return changed

    def _follow_latest(self, changed: int) -> None:
        for side, found in self._complete.items():
            while found and found[-1] >= changed:
                found.pop()
        self._first = {side: i for side, i in self._first.items() if i < changed}
        for i in range(changed, len(self._steps)):
            step = self._steps[i]
            self._first.setdefault(step.side, i)
            if all(math.isfinite(getattr(step, key)) for key in COMPLETE):
                self._complete.setdefault(step.side, []).append(i)

    def latest(self) -> dict[str, Step]:
        """:func:`latest_steps` of the step table so far."""
        return {side: self._steps[(self._complete.get(side) or [first])[-1]]
                for side, first in sorted(self._first.items(), key=lambda item: item[1])}

    def at(self, now_s: float) -> Analysis:
        """``analyse(events so far, sides, now_s, calibration)``."""
        balance = self._balance.at(now_s)
        number, over, run = self._current_run(balance.reps)
        legs = {side: LegBalance(side, *self._kept("reps", side, rep_series, balance.reps),
                                 *self._kept("steps", side, step_series, balance.reps[:1], run))
                for side in self.sides}
        latest = self.latest()
        return Analysis(now_s, MappingProxyType(latest), big_numbers(latest, balance.reps, over),
                        self._rep_rows(balance), MappingProxyType(legs), number, over, banner(balance.flags), balance)

    def _kept(self, scale: str, side: str, make, *inputs: Sequence) -> tuple[Series, Series]:
        """``make(side, *inputs)``, made again only when an input sequence holds other objects (between
        reps the rep series stay, after a rep the steps series too). An input that is the very
        sequence given last time is taken as unchanged: the analysis never changes a list it handed out."""
        hit = self._series.get((scale, side))
        if hit is None or not all(now is then or same_objects(now, copy) for now, then, copy in zip(inputs, *hit[:2])):
            hit = self._series[scale, side] = (inputs, tuple(list(i) for i in inputs), make(side, *inputs))
        return hit[2]

    def _current_run(self, reps: Sequence[Rep]) -> tuple[int | None, bool, list[Step]]:
        """:func:`current_run` from the bouts the segmentation keeps."""
        run = self._balance.reps.last_bout_after(reps[-1].steps[-1].ic_s if reps else -math.inf)
        if run:
            return len(reps) + 1, False, run
        if reps:
            return reps[-1].number, True, reps[-1].steps
        return None, False, []

    def _rep_rows(self, balance: StrengthBalance) -> tuple[RepRow, ...]:
        """:func:`rep_rows`, each row made again only when its rep or its flags changed (none when
        the balance is the one of the last call)."""
        if self._rows_of is not None and self._rows_of[0] is balance:
            return self._rows_of[1]
        raised = raised_on(balance.flags)
        rows, kept = [], {}
        for rep in balance.reps:
            flags = raised.get(rep.number, ())
            hit = self._rows.get(id(rep))
            if hit is None or hit[0] is not rep or len(hit[1]) != len(flags) or \
                    any(a is not b for a, b in zip(hit[1], flags)):
                hit = (rep, flags, rep_row(rep, flags))
            kept[id(rep)] = hit
            rows.append(hit[2])
        self._rows = kept
        self._rows_of = (balance, tuple(rows))
        return self._rows_of[1]


# -- the model --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisRun:
    """One analysis of a :class:`DashboardModel` and its cost, as ``on_analysis`` hears it."""

    now_s: float  #: session time analysed, s
    events: int  #: the session's events it rests on (its first ``events``)
    steps: int  #: steps made of them
    analysis: Analysis  #: the result (shown unless a newer one is already)
    seconds: float  #: how long the run took, wall clock, s


class DashboardModel:
    """One athlete's view: fed by the engine thread, read by the GUI thread (module docstring).

    Parameters
    ----------
    athlete : str
    window_s : float
        Trace history kept and shown by default, s.
    rate_hz : float
        Expected sample rate (sizes the ring buffers; they grow if the sensor is faster).
    analysis_interval_s : float
        Least session time between two analyses, s.
    schedule : callable, optional
        ``schedule(model, task)``: run the zero-argument ``task`` soon, on any thread (a newer task
        of the same model may replace one not yet started). None runs analyses in place.
    calibration : Calibration, optional
        The athlete's calibration: corrects every analysis (:func:`analyse`).
    on_analysis : callable, optional
        ``on_analysis(run)`` hears every :class:`AnalysisRun`, on the thread that ran it (what the
        live analysis costs as a session grows: ``benchmarks/bench_dashboard.py --long``).

    Attributes
    ----------
    flag_listener : callable or None
        ``flag_listener(live, now_s, flags)`` hears each analysis of session ``live``: the flags
        raised so far at session time ``now_s`` (s), in order (e.g. the LSL markers); on the thread
        that ran it.
    """

    def __init__(self, athlete: str = "", window_s: float = 10.0, rate_hz: float = 1000.0,
                 analysis_interval_s: float = 0.5,
                 schedule: Callable[[DashboardModel, Callable[[], None]], None] | None = None,
                 calibration: Calibration | None = None, on_analysis: Callable[[AnalysisRun], None] | None = None):
        self.athlete = athlete
        self.calibration = calibration
        self._on_analysis = on_analysis
        self.window_s = float(window_s)
        self.rate_hz = float(rate_hz)
        self.analysis_interval_s = analysis_interval_s
        self._schedule = schedule
        self._lock = threading.Lock()
        self._analysis_lock = threading.Lock()  # one analysis task at a time; taken before _lock, never inside it
        self._generation = 0
        self._applied = 0
        self._tasks = 0
        self._recording = RecordingState()
        self.flag_listener: Callable[[LiveSession, float, Sequence[Flag]], None] | None = None
        self._reset(None)

    def _reset(self, live: LiveSession | None) -> None:
        # engine side only
        self._live = live
        self._n_events = 0
        self._n_gaps = 0
        self._changed = False
        self._last_ic = -math.inf
        self._last_run = -math.inf
        self._live_analysis: LiveAnalysis | None = None  # made by the first analysis task, under _analysis_lock
        # shared, under the lock
        self._traces: dict[str, TraceBuffer] = {}
        self._markers: dict[str, deque[GaitEvent]] = {}
        self._gaps: dict[str, deque[tuple[float, float]]] = {}
        self._analysis = EMPTY_ANALYSIS
        self._health: tuple[SensorStatus, ...] = ()
        self._session_s = 0.0
        self._marks: list[float] = []

    # -- engine side ---------------------------------------------------------------------------------
    def attach(self, live: LiveSession) -> None:
        """Follow a (new) live session: the view starts empty."""
        with self._analysis_lock, self._lock:
            self._generation += 1
            self._reset(live)
        live.projection_listener = self.on_projected

    def on_projected(self, role: str, t: np.ndarray, omega: np.ndarray, acc: np.ndarray) -> None:
        """The projection listener: keep what the leg's step core was fed (engine thread)."""
        events, gaps = self._pull()
        with self._lock:
            if len(t):
                trace = self._traces.get(role)
                if trace is None:
                    trace = self._traces[role] = TraceBuffer(self.window_s, self.rate_hz)
                trace.append(t, omega, acc)
            if events or gaps:
                self._keep(events, gaps)
        self._maybe_analyse(float(t[-1]))

    def update(self, now_s: float, recording: RecordingState | None = None) -> None:
        """Housekeeping (engine thread, a few times a second): time, events, health, recording."""
        events, gaps = self._pull()
        health = tuple(replace(s) for _, s in sorted(self._live.health().items())) if self._live else ()
        with self._lock:
            self._session_s = now_s
            self._health = health
            if recording is not None:
                self._recording = recording
            self._keep(events, gaps)
            self._forget_old()
        self._maybe_analyse(now_s)

    def analyse_now(self, now_s: float, recording: RecordingState | None = None) -> None:
        """Bring everything in and analyse it now, in this thread (end of a session; tests)."""
        self.update(now_s, recording)
        self._analysis_task(now_s)()

    def add_mark(self, t_s: float) -> None:
        """A rep marked by hand at session time ``t_s``."""
        with self._lock:
            self._marks.append(t_s)

    def _pull(self) -> tuple[list[GaitEvent], list]:
        if self._live is None or (len(self._live.events) == self._n_events and len(self._live.gaps) == self._n_gaps):
            return [], []
        events = self._live.events[self._n_events:]
        gaps = self._live.gaps[self._n_gaps:]
        self._n_events += len(events)
        self._n_gaps += len(gaps)
        if events:
            self._changed = True
            self._last_ic = max([self._last_ic] + [e.t for e in events if e.kind == "IC"])
        return events, gaps

    def _keep(self, events: list[GaitEvent], gaps: list) -> None:
        for event in events:
            self._markers.setdefault(event.side, deque()).append(event)
        for gap in gaps:
            self._gaps.setdefault(gap.sensor, deque()).append((gap.t_start, gap.t_end))

    def _forget_old(self) -> None:
        """Drop events and gaps older than the trace history."""
        oldest = self._newest_t() - self.window_s
        for marks in self._markers.values():
            while marks and marks[0].t < oldest:
                marks.popleft()
        for spans in self._gaps.values():
            while spans and spans[0][1] < oldest:
                spans.popleft()

    def _newest_t(self) -> float:
        return max([self._session_s] + [tr.newest_t for tr in self._traces.values() if tr.size])

    def _maybe_analyse(self, now_s: float) -> None:
        if now_s - self._last_run < self.analysis_interval_s:
            return
        settling = now_s <= self._last_ic + REP_SETTLE_S + self.analysis_interval_s
        if not (self._changed or settling):
            return
        task = self._analysis_task(now_s)
        if self._schedule is None:
            task()
        else:
            self._schedule(self, task)

    def _analysis_task(self, now_s: float) -> Callable[[], None]:
        """A task that brings the events so far into the session's :class:`LiveAnalysis` and shows
        its result at ``now_s`` unless a newer one is shown already."""
        self._last_run = now_s
        self._changed = False
        self._tasks += 1
        generation, number, live = self._generation, self._tasks, self._live
        upto = len(live.events) if live else 0
        sides = sorted(live.legs) if live else []

        def task() -> None:
            started = time.perf_counter()
            with self._analysis_lock:
                if generation != self._generation:
                    return
                analysis = self._live_analysis
                if analysis is None or analysis.sides != sides:  # a leg joined: start again from all events
                    analysis = self._live_analysis = LiveAnalysis(sides, self.calibration)
                if upto > analysis.fed:
                    analysis.add(live.events[analysis.fed:upto])
                    analysis.fed = upto
                result = analysis.at(now_s)
                listener = self.flag_listener
                if listener is not None:
                    listener(live, now_s, result.strength.flags)
                steps = len(analysis._steps)
            with self._lock:
                if generation == self._generation and number > self._applied:
                    self._applied = number
                    self._analysis = result
            if self._on_analysis is not None:
                self._on_analysis(AnalysisRun(now_s, upto, steps, result, time.perf_counter() - started))

        return task

    def raised_flags(self) -> tuple[Flag, ...]:
        """The flags of the latest analysis shown (any thread)."""
        with self._lock:
            strength = self._analysis.strength
        return tuple(strength.flags) if strength is not None else ()

    # -- GUI side ------------------------------------------------------------------------------------
    def snapshot(self, window_s: float | None = None) -> Snapshot:
        """The current view; the last ``window_s`` (default: all kept) seconds of the traces."""
        span = self.window_s if window_s is None else min(window_s, self.window_s)
        with self._lock:
            t_end = self._newest_t()
            t_start = t_end - span
            traces = {role: trace.window(t_start) for role, trace in self._traces.items()}
            markers = {side: [e for e in marks if e.t >= t_start] for side, marks in self._markers.items()}
            gaps = {side: tuple(g for g in spans if g[1] >= t_start) for side, spans in self._gaps.items()}
            analysis, health, recording = self._analysis, self._health, self._recording
            session_s, marks_hand = self._session_s, tuple(self._marks)
        legs = {}
        for side in sorted(set(traces) | set(markers)):
            t, omega, acc = traces.get(side) or (np.empty(0),) * 3
            events = markers.get(side, [])
            legs[side] = LegTrace(side, _read_only(t), _read_only(omega), _read_only(acc),
                                  MappingProxyType({kind: _event_marks(events, kind) for kind in MARKER_KINDS}),
                                  gaps.get(side, ()))
        return Snapshot(self.athlete, session_s, t_start, t_end, MappingProxyType(legs), analysis.latest,
                        analysis.numbers, analysis.reps, analysis.balance, analysis.current_rep,
                        analysis.current_rep_over, analysis.banner, health, recording, marks_hand, analysis.now_s,
                        self.calibration.describe() if self.calibration is not None else "")


def _event_marks(events: list[GaitEvent], kind: str) -> EventMarks:
    chosen = [e for e in events if e.kind == kind]
    return EventMarks(_read_only(np.array([e.t for e in chosen], float)),
                      _read_only(np.array([e.value for e in chosen], float)))
