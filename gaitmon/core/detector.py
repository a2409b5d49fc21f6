"""Thin, validating wrapper around the event kernel of one leg."""

from __future__ import annotations

import numpy as np

from gaitmon.consts import EVENT_KINDS
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
    Input is the sagittal angular velocity ``ω`` (rad/s, positive when the foot swings forward; see
    :mod:`gaitmon.consts`) and the accelerometer magnitude ``|a|`` (m/s²), both sample-aligned with
    the time stamps ``t`` (s, strictly increasing).

    Events and the physics behind each rule (shank placement):

    - **MSW** is the largest ``ω`` of a swing: the shank rotating forward fastest. A swing starts
      when smoothed ``ω`` crosses an onset threshold and is confirmed when it has fallen to half
      its peak; it only counts as a step if its peak clears a floor and a fraction of the recent
      peaks (standing and fidgeting never do).
    - **TO** is where ``ω`` turns from its late-stance minimum into the swing: at push-off the
      planted shank rotates backward fastest, and as the foot leaves the ground the knee flexes
      and ``ω`` shoots up [Aminian 2002]. The minimum is searched at most ``to_search_s`` before
      swing onset and never within ``contact_guard_s`` of the last contact; then the straight early
      part of the rise (5–30 % of the way to the peak) is extended back to the minimum's level and
      the nearest sample (within ``h + 2``) is toe-off — the flat, noisy bottom of a slow stance
      cannot then pull it early.
    - **IC** is the onset of the impact transient in ``|a|`` when the foot strikes: the first
      sample that has risen a quarter of the way of a jump ``|a|[i] − |a|[i−k]`` (``k`` ≈ 4 ms)
      larger than a floor and a fraction of recent impacts, looked for only in late swing, then the
      nearer of it and the sample before. If no impact shows before the next swing starts (it fell
      into dropped samples), the contact is not reported: on a sprinting shank ω falls from late
      swing through stance to toe-off, so the post-swing minimum [Aminian 2002] would be toe-off.

    Foot placement (``placement="foot"``) keeps the same machine but places TO at the first sample
    where ``ω`` has risen back to half of the push-off minimum, and IC at the first sample of the
    final descent below half of the post-swing minimum, and does not use the impact (a foot
    sensor's swing accelerations are as sharp as its impacts).

    Latency (event confirmed after it happened): IC by impact ≤ ``k`` + 2 samples (≤ 10 ms at
    200 Hz); IC by the foot rule: until ``ω`` has risen above its post-swing minimum (tens of ms);
    TO and MSW: at mid-swing confirmation, about 0.1 s after the peak and 0.25 s after TO.
    :func:`gaitmon.accuracy.detection_latency` measures them.

    Chunking: the kernel is a per-sample state machine with a look-back ring buffer, so feeding
    any split of the stream gives identical events.
    """

    def __init__(self, side: str, params: DetectorParams, kernel: type | None = None):
        if kernel is None:
            from gaitmon.core import Kernel as kernel
        self.side = side
        self.params = params
        self._kernel = kernel(*params.kernel_args())

    def feed(self, t, omega, acc_magnitude) -> list[GaitEvent]:
        """Feed one block; returns the events confirmed while processing it.

        Parameters
        ----------
        t : array_like, shape (n,)
            Sample times, s, strictly increasing across calls.
        omega : array_like, shape (n,)
            Sagittal angular velocity, rad/s, swing positive.
        acc_magnitude : array_like, shape (n,)
            Accelerometer magnitude, m/s².
        """
        t = np.ascontiguousarray(t, dtype=np.float64)
        omega = np.ascontiguousarray(omega, dtype=np.float64)
        acc_magnitude = np.ascontiguousarray(acc_magnitude, dtype=np.float64)
        if not (t.shape == omega.shape == acc_magnitude.shape) or t.ndim != 1:
            raise ValueError("t, omega and acc_magnitude must be 1-D arrays of the same length")
        raw = self._kernel.feed(t, omega, acc_magnitude)
        return [GaitEvent(t=ev_t, side=self.side, kind=EVENT_KINDS[kind], value=value) for kind, ev_t, value in raw]

    def reset(self) -> None:
        """Forget all state (after a reconnection with a new clock, say)."""
        self._kernel.reset()
