"""Detector parameters shared by the compiled kernel and its pure-Python twin.

Every threshold is either an absolute floor (what a walking step at ~1 m/s still clears, what
standing and fidgeting never reach) or a fraction of a running reference that follows the athlete
(the recent swing peaks and impact sizes). Nothing is tuned per athlete.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass

PLACEMENT_CODES = {"shank": 0, "foot": 1}


def butterworth_biquad(cutoff_hz: float, fs_hz: float) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """``(b, a)`` of the 2nd-order Butterworth low-pass with cut-off ``cutoff_hz`` at rate ``fs_hz``.

    The bilinear transform of ``H(s) = 1 / (s² + √2·s + 1)`` with the cut-off pre-warped,
    ``K = tan(π·fc/fs)``: ``b = K²·(1, 2, 1) / D``, ``a = (D, 2(K² − 1), 1 − √2·K + K²) / D`` with
    ``D = 1 + √2·K + K²``. It is what ``scipy.signal.butter(2, fc, fs=fs)`` returns (within a few
    ulps, tested against it); written out because importing scipy.signal costs ~0.9 s of every
    command's start-up for one biquad.
    """
    if not 0.0 < cutoff_hz < fs_hz / 2:
        raise ValueError(f"cut-off must lie between 0 and half the rate ({fs_hz / 2} Hz), not {cutoff_hz!r}")
    k = math.tan(math.pi * cutoff_hz / fs_hz)
    d = 1.0 + math.sqrt(2.0) * k + k * k
    b0 = k * k / d
    return (b0, 2.0 * b0, b0), (1.0, 2.0 * (k * k - 1.0) / d, (1.0 - math.sqrt(2.0) * k + k * k) / d)


@dataclass(frozen=True)
class DetectorParams:
    """Settings of :class:`gaitmon.core.StepDetector`.

    Parameters
    ----------
    sample_rate_hz : float
        Nominal sample rate, Hz. Sets the smoothing filter and the impact span; event times
        always come from the sample time stamps, so a drifting rate does not bias them.
    placement : {"shank", "foot"}
        Which event rules to apply (see Notes of :class:`gaitmon.core.StepDetector`).
    smooth_cutoff_hz : float
        Cut-off of the 2nd-order Butterworth low-pass (:func:`butterworth_biquad`) applied to ω for
        the *state transitions only*; event times are located on the raw signal.
    swing_on_floor_rad_s, swing_on_fraction : float
        Swing starts when smoothed ω exceeds ``max(floor, fraction · reference peak)``.
    swing_peak_floor_rad_s, swing_peak_fraction : float
        A swing counts as a step only if its peak reaches ``max(floor, fraction · reference)``.
    reference_weight : float
        Weight of the newest accepted swing peak / impact in the running references (EMA).
    reference_decay_s : float
        The references relax toward zero with this time constant while no step is seen, so the
        detector re-arms for walking after a sprint and for a sprint after standing.
    msw_drop_fraction : float
        Mid-swing is confirmed once smoothed ω has fallen below this fraction of its swing peak.
    max_swing_s : float
        Longer "swings" (swing onset to mid-swing confirmation) are rejected.
    max_late_swing_s : float
        If no initial contact follows mid-swing within this time, the step is abandoned.
    to_search_s : float
        How far back from swing onset toe-off is searched.
    to_smooth_s : float
        Foot placement: half-width of the centred moving average the toe-off minimum is located on
        (look-back, so it costs no latency); ``h = round(to_smooth_s · fs)`` samples, 0 below 250 Hz.
    contact_guard_s : float
        Toe-off is never searched closer than this after an initial contact (skips the impact).
    impact_span_s : float
        Span of the impact statistic ``|a|[i] − |a|[i − k]``, ``k = max(1, round(span · fs))``.
    impact_floor_m_s2, impact_fraction : float
        An impact is declared when the statistic exceeds ``max(floor, fraction · reference)``.
    impact_arm_fraction : float
        Foot placement: the post-swing minimum counts only once smoothed ω has fallen below this
        fraction of the swing peak.
    min_rise_rad_s, min_rise_fraction : float
        Foot placement: the post-swing minimum of ω (initial contact) is accepted once smoothed ω
        has risen ``max(min_rise, fraction · swing peak)`` above it.
    max_gap_s : float
        A hole in the time stamps longer than this resets the detector: the step in progress is
        dropped rather than guessed (no phantom steps at gaps).
    buffer_s : float
        Length of the look-back ring buffer, s.
    ic_delay_s : float
        Shank, initial contact without a visible impact: IC = the downward zero crossing of ω after
        mid-swing (linearly interpolated) + this. On force-plate running (running_mocap) the
        per-runner medians are 14–24 ms (``docs/core.md``).
    to_delay_s : float
        Shank toe-off = the steepest point of the late-stance descent of ω + this (negative: toe-off
        comes first). Force-plate per-runner medians −21 … −3 ms (``docs/core.md``).
    impact_window_s : float
        Shank: an impact counts as the contact only within this long after the zero crossing; when
        the window closes without one, the gyro rule gives the contact.
    slope_span_s : float
        Half-width of the central difference for dω/dt, ``max(1, round(span · fs))`` samples.
    impact_rate_floor_m_s3 : float
        Shank: an impact must also rise faster than this (m/s² per s) over its span. A real strike
        is a transient; the smooth rise of |a| through a contact without one (marker-derived data,
        soft landings) stays below 1.9 m/s² per ms on running_mocap, so 3 m/s² per ms keeps it out.
    to_walk_fraction : float
        Hysteresis of the walks back from the swing to the early-swing minimum and on to the
        mid-stance hump, as a fraction of the swing's height above that minimum.
    """

    sample_rate_hz: float
    placement: str = "shank"
    smooth_cutoff_hz: float = 15.0
    swing_on_floor_rad_s: float = 1.0
    swing_on_fraction: float = 0.2
    swing_peak_floor_rad_s: float = 2.0
    swing_peak_fraction: float = 0.35
    reference_weight: float = 0.3
    reference_decay_s: float = 2.0
    msw_drop_fraction: float = 0.5
    max_swing_s: float = 1.0
    max_late_swing_s: float = 0.8
    to_search_s: float = 0.4
    to_smooth_s: float = 0.002
    contact_guard_s: float = 0.03
    impact_span_s: float = 0.004
    impact_floor_m_s2: float = 4.0
    impact_fraction: float = 0.3
    impact_arm_fraction: float = 0.3
    min_rise_rad_s: float = 0.3
    min_rise_fraction: float = 0.25
    max_gap_s: float = 0.1
    buffer_s: float = 1.5
    ic_delay_s: float = 0.018
    to_delay_s: float = -0.013
    impact_window_s: float = 0.06
    slope_span_s: float = 0.005
    impact_rate_floor_m_s3: float = 3000.0
    to_walk_fraction: float = 0.25

    def __post_init__(self):
        if self.placement not in PLACEMENT_CODES:
            raise ValueError(f"placement must be one of {sorted(PLACEMENT_CODES)}, not {self.placement!r}")
        if not self.sample_rate_hz > 0:
            raise ValueError(f"sample_rate_hz must be positive, not {self.sample_rate_hz!r}")

    def kernel_args(self) -> tuple:
        """The flat argument tuple both kernels take (see ``DetectorKernel``)."""
        fs = float(self.sample_rate_hz)
        cutoff = min(self.smooth_cutoff_hz, 0.2 * fs)
        b, a = butterworth_biquad(cutoff, fs)
        impact_span = max(1, int(round(self.impact_span_s * fs)))
        to_halfwidth = int(round(self.to_smooth_s * fs))
        slope_halfwidth = max(1, int(round(self.slope_span_s * fs)))
        capacity = 1
        while capacity < self.buffer_s * fs + impact_span + 2:
            capacity *= 2
        values = astuple(self)
        settings = tuple(float(v) for v in values[2:])  # everything after rate and placement
        return (
            PLACEMENT_CODES[self.placement],
            settings,
            (float(b[0]), float(b[1]), float(b[2]), float(a[1]), float(a[2])),
            impact_span,
            to_halfwidth,
            slope_halfwidth,
            capacity,
        )
