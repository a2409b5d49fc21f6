"""How each step metric is named, scaled and written: one spec per metric, for every display.

The step table (:mod:`gaitmon.analysis.steps`) holds SI values (s, Hz, rad/s, body weights); the
dashboard's big numbers and rep table and the report's per-step charts show them through these
specs, so a metric is labelled, scaled and rounded the same wherever it appears.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One step metric.

    Attributes
    ----------
    key : str
        Column of the step table (SI units).
    label : str
        Full name, for reports.
    short : str
        Name in capitals for a trackside glance.
    unit, short_unit : str
        Unit as shown after scaling (full and short form).
    scale : float
        Factor from the stored SI value to the shown unit (1e3: s → ms).
    fmt : str
        ``str.format`` pattern of the shown value.
    """

    key: str
    label: str
    short: str
    unit: str
    short_unit: str
    scale: float
    fmt: str

    def text(self, value: float | None) -> str:
        """``value`` (SI) scaled and written; a dash when missing or not finite."""
        return format_value(value, self.scale, self.fmt)


def format_value(value: float | None, scale: float = 1.0, fmt: str = "{:.1f}") -> str:
    """``value × scale`` written in ``fmt``; a dash for None or a value that is not finite."""
    return fmt.format(value * scale) if value is not None and math.isfinite(value) else "–"


CONTACT = Metric("contact_s", "Contact time", "CONTACT", "ms", "ms", 1e3, "{:.0f}")
FLIGHT = Metric("flight_s", "Flight time", "FLIGHT", "ms", "ms", 1e3, "{:.0f}")
STEP_FREQUENCY = Metric("step_hz", "Step frequency", "STEP FREQ", "Hz", "Hz", 1.0, "{:.2f}")
SWING_PEAK = Metric("swing_peak_rad_s", "Swing side: peak swing angular velocity", "SWING PEAK", "rad/s", "rad/s",
                    1.0, "{:.1f}")
PUSH_FORCE = Metric("push_force_bw", "Push side: peak force estimate", "PUSH", "× body weight", "BW", 1.0, "{:.2f}")

#: The metrics shown per step, in display order.
STEP_METRICS: tuple[Metric, ...] = (CONTACT, FLIGHT, STEP_FREQUENCY, SWING_PEAK, PUSH_FORCE)
