"""Samples in, gait events out: orientation then the event kernel, per leg.

:class:`LegPipeline` is the streaming unit the live engine, replay and the CLI all use; the
offline helpers below only feed it whole recordings.
"""

from __future__ import annotations

import numpy as np

from gaitmon.core import DetectorParams, StepDetector
from gaitmon.events import GaitEvent
from gaitmon.orientation import SagittalProjector


class LegPipeline:
    """One leg: sensor-frame samples → sagittal ω and |a| → gait events.

    Parameters
    ----------
    side : str
        ``"left"`` or ``"right"``.
    params : DetectorParams
        Sample rate, placement, thresholds.
    kernel : type, optional
        Event kernel class (defaults to the loaded backend).
    """

    def __init__(self, side: str, params: DetectorParams, kernel: type | None = None):
        self.side = side
        self.projector = SagittalProjector()
        self.detector = StepDetector(side, params, kernel=kernel)

    def feed(self, t: np.ndarray, x: np.ndarray) -> list[GaitEvent]:
        """Feed ``t[n]`` (s) and sensor-frame ``x[n, 6]``; returns newly confirmed events."""
        t_out, omega, acc_magnitude = self.projector.feed(t, x)
        if len(t_out) == 0:
            return []
        return self.detector.feed(t_out, omega, acc_magnitude)


def estimate_sample_rate(t: np.ndarray) -> float:
    """Nominal sample rate (Hz) from time stamps: the inverse of the median interval."""
    t = np.asarray(t, dtype=np.float64)
    if len(t) < 2:
        raise ValueError("need at least two samples to estimate the sample rate")
    return float(1.0 / np.median(np.diff(t)))


def detect_events(samples: dict[str, tuple[np.ndarray, np.ndarray]], placement: str = "shank",
                  sample_rate_hz: float | None = None, block_size: int | None = None,
                  kernel: type | None = None) -> list[GaitEvent]:
    """Run every leg of a recording through its :class:`LegPipeline`.

    Parameters
    ----------
    samples : dict
        side → ``(t[n], x[n, 6])`` in the sensor frame (see :mod:`gaitmon.consts`).
    placement : {"shank", "foot"}
        Sensor placement.
    sample_rate_hz : float, optional
        Nominal rate; estimated per side from the time stamps when omitted.
    block_size : int, optional
        Feed in blocks of this many samples (as a live stream would); the result is the same.
    kernel : type, optional
        Event kernel class (defaults to the loaded backend).

    Returns
    -------
    list of GaitEvent
        All sides, sorted by time.
    """
    events: list[GaitEvent] = []
    for side, (t, x) in samples.items():
        if len(t) < 2:
            continue
        rate = sample_rate_hz or estimate_sample_rate(t)
        leg = LegPipeline(side, DetectorParams(sample_rate_hz=rate, placement=placement), kernel=kernel)
        step = block_size or len(t)
        for start in range(0, len(t), step):
            events.extend(leg.feed(t[start:start + step], x[start:start + step]))
    return sorted(events)
