"""Samples in, gait events out: orientation then the event kernel, per leg.

:class:`LegPipeline` is the streaming unit the live engine, replay and the CLI all use. The
offline helper :func:`detect_events` feeds it recordings in blocks (1 s by default), with the
sagittal axis of the whole recording (it has it; a live stream has to estimate it as it goes).
:func:`diagnose_recording` says why a recording cannot give steps.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from gaitmon.consts import ACC_COLUMNS, GYRO_COLUMNS
from gaitmon.core import DetectorParams, StepDetector
from gaitmon.events import GaitEvent
from gaitmon.stream.orientation import MOTION_THRESHOLD_RAD_S, SagittalProjector, sagittal_axis


class LegPipeline:
    """One leg: sensor-frame samples → sagittal ω and |a| → gait events.

    The orientation stage (:class:`~gaitmon.stream.orientation.SagittalProjector`) says which axis
    each released sample is on; the step core projects the samples in its compiled loop and hands
    the projection back (:attr:`projected`), so ω and |a| are computed once, there.

    Parameters
    ----------
    side : str
        ``"left"`` or ``"right"``.
    params : DetectorParams
        Sample rate, placement, thresholds.
    kernel : type, optional
        Event kernel class (defaults to the loaded backend).
    axis : array_like, optional
        A known sagittal axis (swing positive) in the sensor frame; without it the axis is
        estimated from the stream and revised (:class:`gaitmon.stream.orientation.SagittalProjector`).

    Notes
    -----
    When a revision of the streamed axis reverses its sign, the step detector is reset at that
    sample: its running references (swing peaks, impacts) were learnt on the reversed signal.
    Events it already emitted stay emitted. The reset happens at a sample fixed by the stream, so
    the events still do not depend on how the stream is split into blocks.
    """

    def __init__(self, side: str, params: DetectorParams, kernel: type | None = None, axis=None):
        self.side = side
        self.projector = SagittalProjector(placement=params.placement, axis=axis)
        self.detector = StepDetector(side, params, kernel=kernel)
        #: The latest ``(t, ω, |a|)`` handed to the core (see :meth:`feed`).
        self.projected: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.empty(0), np.empty(0), np.empty(0))

    def feed(self, t: np.ndarray, x: np.ndarray) -> list[GaitEvent]:
        """Feed ``t[n]`` (s) and sensor-frame ``x[n, 6]``; returns newly confirmed events.

        What the core was fed — ``(t, ω, |a|)``, possibly empty while the axis is being found, then
        the held samples at once — stays in :attr:`projected` until the next call.
        """
        runs = self.projector.release(t, x)
        if len(runs) == 1 and not runs[0][3]:  # the usual case: one run on the current axis
            run_t, run_x, axis, _ = runs[0]
            omega, acc_magnitude = np.empty(len(run_t)), np.empty(len(run_t))
            self.projected = (run_t, omega, acc_magnitude)
            return self.detector.feed(run_t, run_x, axis, omega, acc_magnitude)
        sizes = np.cumsum([0] + [len(run[0]) for run in runs])
        omega, acc_magnitude = np.empty(sizes[-1]), np.empty(sizes[-1])
        events: list[GaitEvent] = []
        for (run_t, run_x, axis, flipped), lo, hi in zip(runs, sizes[:-1], sizes[1:]):
            if flipped:  # the running references were learnt on the reversed signal
                self.detector.reset()
            if hi > lo:
                events += self.detector.feed(run_t, run_x, axis, omega[lo:hi], acc_magnitude[lo:hi])
        run_t = np.concatenate([run[0] for run in runs]) if runs else np.empty(0)
        self.projected = (run_t, omega, acc_magnitude)
        return events


def estimate_sample_rate(t: np.ndarray) -> float:
    """Nominal sample rate (Hz) from time stamps: the inverse of the median interval."""
    t = np.asarray(t, dtype=np.float64)
    if len(t) < 2:
        raise ValueError("need at least two samples to estimate the sample rate")
    return float(1.0 / np.median(np.diff(t)))


def recording_axis(x: np.ndarray, placement: str = "shank") -> np.ndarray | None:
    """The sagittal axis (swing positive) of one leg's whole recording ``x[n, 6]``, or None
    when it never rotates faster than the motion threshold."""
    try:
        return sagittal_axis(np.asarray(x)[:, GYRO_COLUMNS], placement, motion_threshold_rad_s=MOTION_THRESHOLD_RAD_S)
    except ValueError:
        return None


#: :func:`detect_events` feeds recordings in blocks of this many seconds: small enough to stay in
#: cache, large enough that the per-call cost vanishes (never whole recordings).
BLOCK_S = 1.0


def detect_events(samples: dict[str, tuple[np.ndarray, np.ndarray]], placement: str = "shank",
                  sample_rate_hz: float | None = None, block_size: int | None = None,
                  kernel: type | None = None, traces: dict | None = None) -> list[GaitEvent]:
    """Run every leg of a recording through a :class:`LegPipeline` on its whole-recording axis.

    The axis is :func:`recording_axis` of each leg's whole recording (the streamed estimate needs
    seconds of motion before it locks; a recording already holds all of it), so a walk of a few
    strides gives steps from its first stride. A leg that never moves gives no events.

    Parameters
    ----------
    samples : dict
        side → ``(t[n], x[n, 6])`` in the sensor frame (see :mod:`gaitmon.consts`).
    placement : {"shank", "foot"}
        Sensor placement.
    sample_rate_hz : float, optional
        Nominal rate; estimated per side from the time stamps when omitted.
    block_size : int, optional
        Feed in blocks of this many samples (default: :data:`BLOCK_S` at the nominal rate); the
        result is the same.
    kernel : type, optional
        Event kernel class (defaults to the loaded backend).
    traces : dict, optional
        Filled with side → ``(t, ω)`` (s, rad/s): what each leg's step core was fed.

    Returns
    -------
    list of GaitEvent
        All sides, sorted by time.
    """
    legs = [(side, t, x) for side, (t, x) in samples.items() if len(t) >= 2]
    # One thread per leg: the kernel's loop releases the interpreter lock, so two legs take the
    # time of about one on two cores (the events are the same, sorted below).
    with ThreadPoolExecutor(max_workers=max(1, len(legs))) as pool:
        done = list(pool.map(lambda leg: _detect_leg(*leg, placement, sample_rate_hz, block_size, kernel,
                                                     traces is not None), legs))
    events: list[GaitEvent] = []
    for (side, _, _), (leg_events, trace) in zip(legs, done):
        events.extend(leg_events)
        if traces is not None and trace is not None:
            traces[side] = trace
    return sorted(events)


def _detect_leg(side: str, t: np.ndarray, x: np.ndarray, placement: str, sample_rate_hz: float | None,
                block_size: int | None, kernel: type | None,
                keep_trace: bool) -> tuple[list[GaitEvent], tuple[np.ndarray, np.ndarray] | None]:
    """:func:`detect_events` of one leg: its events, and ``(t, ω)`` fed to its core when asked."""
    axis = recording_axis(x, placement)
    if axis is None:
        return [], None
    rate = sample_rate_hz or estimate_sample_rate(t)
    leg = LegPipeline(side, DetectorParams(sample_rate_hz=rate, placement=placement), kernel=kernel, axis=axis)
    step = block_size or max(1, int(round(BLOCK_S * rate)))
    events: list[GaitEvent] = []
    fed = []
    for start in range(0, len(t), step):
        events.extend(leg.feed(t[start:start + step], x[start:start + step]))
        if keep_trace:
            fed.append(leg.projected[:2])
    trace = (np.concatenate([p[0] for p in fed]), np.concatenate([p[1] for p in fed])) if keep_trace else None
    return events, trace


# -- why a recording gives no steps ---------------------------------------------------------------

#: Shorter recordings (per leg) are too short to analyse.
MIN_DURATION_S = 2.0
#: Recordings with fewer samples per leg are too short to analyse.
MIN_SAMPLES = 100
#: Less motion than this (s of ``|g|`` above the motion threshold, on the leg with most) is too
#: little: a slow walking stride holds ≈ 0.3 s, a running stride ≈ 0.6 s.
MIN_MOTION_S = 0.5
#: A median ``|a|`` in this range (a sensor at rest reads 1 g) means the accelerometer is in g.
ACC_IN_G_RANGE = (0.8, 1.2)
#: A 99th percentile of ``|g|`` above this (rad/s) means the gyro is in deg/s: 50 rad/s is beyond
#: the ±2000 °/s (35 rad/s) full scale of gait IMUs, while 50 °/s is a slow walk.
GYRO_IN_DEG_ABOVE = 50.0


def _legs(samples) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {side: (np.asarray(t, dtype=np.float64), np.asarray(x, dtype=np.float64))
            for side, (t, x) in sorted(samples.items()) if len(t)}


def _norms(x: np.ndarray, columns: slice) -> np.ndarray:
    """Row norms of ``x[:, columns]``, summed in float64 (without a float64 copy of ``x``)."""
    v = x[:, columns]
    return np.sqrt(np.einsum("ij,ij->i", v, v, dtype=np.float64))


def _moving_s(t: np.ndarray, x: np.ndarray) -> float:
    dt = np.clip(np.diff(t, prepend=t[0]), 0.0, 0.05)
    return float(np.sum(dt[_norms(x, GYRO_COLUMNS) > MOTION_THRESHOLD_RAD_S]))


#: Samples per leg the units are told from (a longer leg is read at a stride: UnitStatistics.of).
UNIT_SAMPLES = 1_000_000


@dataclass(frozen=True)
class UnitStatistics:
    """What tells a recording's units, over every sample of every leg: the median ``|a|`` and the 99th
    percentile of ``|gyro|``, in the units the samples are in."""

    acc_median: float
    gyro_p99: float

    @classmethod
    def of(cls, samples: dict[str, tuple[np.ndarray, np.ndarray]]) -> UnitStatistics | None:
        """Of ``samples`` (None without samples): one pass over them, shared by :func:`guess_units` and
        :func:`units_problem`. A leg longer than :data:`UNIT_SAMPLES` is read at an even stride (every
        k-th sample, the fewest k that leaves at most that many): 17 minutes at 1 kHz tell the units as
        surely as an hour."""
        legs = [np.asarray(x) for t, x in samples.values() if len(t)]  # as stored: no float64 copy
        if not legs:
            return None
        legs = [x[::-(-len(x) // UNIT_SAMPLES)] for x in legs]
        acc = np.concatenate([_norms(x, ACC_COLUMNS) for x in legs])
        gyro = np.concatenate([_norms(x, GYRO_COLUMNS) for x in legs])
        return cls(float(np.median(acc)), float(np.percentile(gyro, 99)))

    def scaled(self, acc_factor: float, gyro_factor: float) -> UnitStatistics:
        """The same samples' statistics after they were multiplied by these factors (to m/s², rad/s)."""
        return UnitStatistics(self.acc_median * acc_factor, self.gyro_p99 * gyro_factor)


def units_problem(samples: dict[str, tuple[np.ndarray, np.ndarray]],
                  statistics: UnitStatistics | None = None) -> str | None:
    """``"units look wrong: ..."`` when the accelerometer reads in g or the gyro in deg/s, else None.

    SI units are expected (:mod:`gaitmon.consts`). A sensor at rest reads 1 g, so a median ``|a|``
    of 0.8–1.2 means g, not m/s² (in m/s² it is ≈ 9.8 standing, more running); a 99th percentile
    of ``|g|`` above 50 means deg/s, not rad/s. ``statistics``: those of ``samples``, when known.
    """
    stats = statistics or UnitStatistics.of(samples)
    if stats is None:
        return None
    problems = []
    if ACC_IN_G_RANGE[0] <= stats.acc_median <= ACC_IN_G_RANGE[1]:
        problems.append(f"median |a| is {stats.acc_median:.2f}, as in g, not m/s² (multiply by 9.80665)")
    if stats.gyro_p99 > GYRO_IN_DEG_ABOVE:
        problems.append(f"99th percentile of |gyro| is {stats.gyro_p99:.0f}, as in deg/s, not rad/s "
                        f"(multiply by π/180)")
    return "units look wrong: " + "; ".join(problems) if problems else None


#: Median ``|a|`` of a gait recording whose accelerometer reads in g: 1.0 walking (ipol_foot_walk),
#: 1.6 to 3.1 treadmill running at 2 to 5 m/s (running_mocap), more when sprinting.
ACC_MEDIAN_IN_G = (0.5, 4.5)
#: … and in m/s²: gravity alone keeps it near 9.8 (10.2 to 10.6 walking, 15 to 31 running); 80 m/s²
#: (8 g as a median) is beyond any gait recording.
ACC_MEDIAN_IN_M_S2 = (6.5, 80.0)
#: A 99th percentile of ``|gyro|`` up to this reads as rad/s: the ±2000 °/s (35 rad/s) full scale of
#: gait IMUs; a running shank gives 7 to 13 rad/s (running_mocap), a sprint about 20. Above
#: :data:`GYRO_IN_DEG_ABOVE` it reads as deg/s (the same running in deg/s: 430 to 750).
GYRO_P99_IN_RAD_S_UP_TO = 35.0


@dataclass(frozen=True)
class UnitGuess:
    """The units the samples look like, from physics: ``acc`` ``"g"``, ``"m/s2"`` or None (cannot tell),
    ``gyro`` ``"deg/s"``, ``"rad/s"`` or None; with the numbers each rests on."""

    acc: str | None
    gyro: str | None
    acc_evidence: str
    gyro_evidence: str


def guess_units(samples: dict[str, tuple[np.ndarray, np.ndarray]],
                statistics: UnitStatistics | None = None) -> UnitGuess:
    """Which units the accelerometer and gyro of ``samples`` read in, all legs together
    (``statistics``: those of ``samples``, when known).

    The accelerometer: gravity keeps a gait recording's median ``|a|`` near 1 g or above, so a median
    in :data:`ACC_MEDIAN_IN_G` is g and one in :data:`ACC_MEDIAN_IN_M_S2` is m/s²; between or beyond,
    it cannot tell. The gyro: the 99th percentile of ``|gyro|`` is at most
    :data:`GYRO_P99_IN_RAD_S_UP_TO` in rad/s (a gait IMU's full scale) and above
    :data:`GYRO_IN_DEG_ABOVE` in deg/s; between, it cannot tell.
    """
    stats = statistics or UnitStatistics.of(samples)
    if stats is None:
        return UnitGuess(None, None, "no samples", "no samples")
    acc_median, gyro_p99 = stats.acc_median, stats.gyro_p99
    acc = ("g" if ACC_MEDIAN_IN_G[0] <= acc_median <= ACC_MEDIAN_IN_G[1] else
           "m/s2" if ACC_MEDIAN_IN_M_S2[0] <= acc_median <= ACC_MEDIAN_IN_M_S2[1] else None)
    gyro = ("rad/s" if gyro_p99 <= GYRO_P99_IN_RAD_S_UP_TO else "deg/s" if gyro_p99 > GYRO_IN_DEG_ABOVE else None)
    return UnitGuess(acc, gyro, f"median |a| {acc_median:.3g}", f"99th percentile of |gyro| {gyro_p99:.3g}")


def diagnose_recording(samples: dict[str, tuple[np.ndarray, np.ndarray]]) -> str | None:
    """Why this recording cannot give steps, as one line; None when nothing is visibly wrong.

    Checked in this order, on the legs (sides) that have samples:

    1. too short: every leg has less than :data:`MIN_DURATION_S` or fewer than :data:`MIN_SAMPLES`;
    2. too little motion: no long-enough leg rotates faster than the motion threshold for
       :data:`MIN_MOTION_S` in all;
    3. units look wrong (:func:`units_problem`).

    ``None`` means the samples look analysable; if no steps come out of them all the same,
    :func:`no_steps_seen` says what was seen.
    """
    legs = _legs(samples)
    if not legs:
        return "no samples"
    long_enough = {side: (t, x) for side, (t, x) in legs.items()
                   if len(t) >= MIN_SAMPLES and t[-1] - t[0] >= MIN_DURATION_S}
    if not long_enough:
        duration = max(t[-1] - t[0] for t, _ in legs.values())
        count = max(len(t) for t, _ in legs.values())
        return (f"too short to analyse: {duration:.1f} s and {count} samples per leg at most "
                f"(need at least {MIN_DURATION_S:g} s and {MIN_SAMPLES} samples)")
    motion = {side: _moving_s(t, x) for side, (t, x) in long_enough.items()}
    if max(motion.values()) < MIN_MOTION_S:
        peak = max(float(np.max(_norms(x, GYRO_COLUMNS))) for _, x in long_enough.values())
        seen = (f"|gyro| never exceeds {MOTION_THRESHOLD_RAD_S:g} rad/s" if max(motion.values()) == 0.0 else
                f"|gyro| exceeds {MOTION_THRESHOLD_RAD_S:g} rad/s for only {max(motion.values()):.2f} s")
        return (f"too little motion: {seen} (largest {peak:.2f} rad/s); a walking stride gives "
                f"0.3 s or more above it")
    return units_problem(long_enough)


def no_steps_seen(samples: dict[str, tuple[np.ndarray, np.ndarray]], placement: str = "shank") -> str:
    """``"no steps found: ..."`` with what the recording holds: duration, motion, swing peaks."""
    legs = _legs(samples)
    parts = []
    for side, (t, x) in legs.items():
        axis = recording_axis(x, placement)
        peak = float(np.max(x[:, GYRO_COLUMNS] @ axis)) if axis is not None else 0.0
        parts.append(f"{side} {t[-1] - t[0]:.1f} s, {_moving_s(t, x):.1f} s of motion, "
                     f"largest swing peak {peak:.1f} rad/s")
    return f"no steps found ({placement} placement): " + "; ".join(parts)
