"""Thin, validating wrapper around the event kernel of one leg."""

from __future__ import annotations

import numpy as np

from gaitmon.consts import EVENT_KINDS, EVENT_RULES
from gaitmon.core._backend import Kernel
from gaitmon.core._params import DetectorParams
from gaitmon.events import GaitEvent


class StepDetector:
    """Streaming gait-event detector for one leg.

    Parameters
    ----------
    side : str
        ``"left"`` or ``"right"``; copied into every event.
    params : DetectorParams
        Sample rate, placement and thresholds.
    kernel : type, optional
        The kernel class; defaults to the loaded backend (``gaitmon.core.Kernel``). Tests pass the
        twin and the compiled kernel explicitly to compare them.

    Notes
    -----
    Input is one leg's sensor-frame samples ``x[n, 6]`` (columns of :data:`gaitmon.consts.SAMPLE_COLUMNS`,
    float32 or float64) with their time stamps ``t`` (s, strictly increasing) and the sagittal axis in
    the sensor frame (:mod:`gaitmon.stream.orientation`). The kernel projects each sample in its loop:
    the sagittal angular velocity ``ω = gyro · axis`` (rad/s, positive when the foot swings forward;
    see :mod:`gaitmon.consts`) and the accelerometer magnitude ``|a|`` (m/s²), and hands them back
    (``omega``/``acc_magnitude`` of :meth:`feed`) for traces. The compiled loop releases the GIL.

    Events and the physics behind each rule (shank placement):

    - **MSW** is the largest ``ω`` of a swing: the shank rotating forward fastest. A swing starts
      when smoothed ``ω`` crosses an onset threshold and is confirmed when it has fallen to half
      its peak; it only counts as a step if its peak clears a floor and a fraction of the recent
      peaks (standing and fidgeting never do).
    - **TO** sits on the late-stance descent of ``ω``, just before its steepest point: at push-off
      the knee is already flexing and, once the foot is free, the shank's backward rotation speeds
      up fastest; the early-swing *minimum* comes 50–100 ms later (measured against force plates
      on treadmill running, ``docs/core.md``). From the swing peak the kernel walks back down the
      rise to that minimum and up the descent to the mid-stance hump (each walk ends once ``ω``
      turns back by ``to_walk_fraction`` of the swing's height), finds the most negative ``dω/dt``
      (central difference over ±``slope_span_s``, parabola for the sub-sample time) and reports
      toe-off ``to_delay_s`` from it. Never searched before ``to_search_s`` ahead of swing onset,
      within ``contact_guard_s`` of the last contact, or across a gap.
    - **IC** by **impact** when the sensor shows one: within ``impact_window_s`` after the downward
      zero crossing of ``ω`` following mid-swing, the first sample that has risen a quarter of the
      way of a jump ``|a|[i] − |a|[i−k]`` (``k`` ≈ 4 ms) larger than a floor, than
      ``impact_rate_floor_m_s3`` × its span and than a fraction of recent impacts; then the nearer
      of it and the sample before. A landing without a sharp transient (soft surface, loose strap,
      100–200 Hz sampling, marker-derived data) falls back to the **gyro** rule: the zero crossing
      (interpolated) + ``ic_delay_s``, emitted when the impact window closes. Each event says which
      rule placed it (``GaitEvent.rule``).

    Foot placement (``placement="foot"``) keeps the same machine but places TO at the first sample
    where ``ω`` has risen back to half of the push-off minimum, and IC at the first sample of the
    final descent below half of the post-swing minimum, and does not use the impact (a foot
    sensor's swing accelerations are as sharp as its impacts).

    Latency (event confirmed after it happened): IC by impact ≤ ``k`` + 2 samples (≤ 10 ms at
    200 Hz); IC by the gyro rule ``impact_window_s − ic_delay_s`` + 1 sample (≈ 45 ms); IC by the
    foot rule: until ``ω`` has risen above its post-swing minimum (tens of ms); TO and MSW: at mid-swing confirmation, about 0.1 s after the peak and 0.25 s after TO.
    :func:`gaitmon.validation.accuracy.detection_latency` measures them.

    Chunking: the kernel is a per-sample state machine with a look-back ring buffer, so feeding
    any split of the stream gives identical events.
    """

    def __init__(self, side: str, params: DetectorParams, kernel: type | None = None):
        if kernel is None:
            kernel = Kernel
        self.side = side
        self.params = params
        self._kernel = kernel(*params.kernel_args())

    def feed(self, t, x, axis, omega=None, acc_magnitude=None) -> list[GaitEvent]:
        """Feed one block; returns the events confirmed while processing it.

        Parameters
        ----------
        t : array_like, shape (n,)
            Sample times, s, strictly increasing across calls.
        x : array_like, shape (n, 6)
            Sensor-frame samples: ax, ay, az (m/s²), gx, gy, gz (rad/s); float32 is used as it is,
            anything else as float64.
        axis : array_like, shape (3,)
            Unit sagittal axis in the sensor frame, swing positive.
        omega, acc_magnitude : ndarray, shape (n,), float64, optional
            Filled with what the core saw: ``ω = gyro · axis`` (rad/s) and ``|a|`` (m/s²).
        """
        t = np.ascontiguousarray(t, dtype=np.float64)
        x = np.asarray(x)
        x = np.ascontiguousarray(x, dtype=np.float32 if x.dtype == np.float32 else np.float64)
        n = len(t)
        if t.ndim != 1 or x.shape != (n, 6):
            raise ValueError(f"need t[n] and x[n, 6], not t{t.shape} and x{x.shape}")
        if omega is None:
            omega = np.empty(n)
        if acc_magnitude is None:
            acc_magnitude = np.empty(n)
        raw = self._kernel.feed(t, x, axis, omega, acc_magnitude)
        return [GaitEvent(t=ev_t, side=self.side, kind=EVENT_KINDS[kind], value=value, rule=EVENT_RULES[rule])
                for kind, ev_t, value, rule in raw]

    def reset(self) -> None:
        """Forget all state (after a reconnection with a new clock, say)."""
        self._kernel.reset()
