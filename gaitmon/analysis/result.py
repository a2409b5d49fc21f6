"""What one analysis produced: events, steps, the strength balance, and where it was written."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from gaitmon.analysis import StrengthBalance, strength_balance
from gaitmon.analysis.calibration import Calibration, calibrate_steps
from gaitmon.analysis.steps import Step
from gaitmon.events import GaitEvent


@dataclass
class AnalysisResult:
    """What one analysis produced, and where it was written."""

    source: Path
    placement: str
    sides: list[str]
    events: list[GaitEvent]
    steps: list[Step]
    balance: StrengthBalance
    written: list[Path] = field(default_factory=list)
    #: side → ``(t, ω)`` (s, rad/s): the sagittal angular velocity the step core was fed, for the
    #: report's traces (empty when the analysis did not keep it).
    traces: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: The athlete's calibration that corrected ``steps`` (:meth:`calibrated`), or None.
    calibration: Calibration | None = None
    #: With a calibration: the steps as detected, one per step of ``steps`` (else empty).
    raw_steps: list[Step] = field(default_factory=list)

    @property
    def detected_steps(self) -> list[Step]:
        """The steps as detected (what the athlete history stores): ``raw_steps`` when calibrated, else ``steps``."""
        return self.raw_steps if self.calibration is not None else self.steps

    def calibrated(self, calibration: Calibration) -> AnalysisResult:
        """This result with its steps corrected by ``calibration`` (phase bands from these steps' reps,
        :func:`~gaitmon.analysis.calibration.calibrate_steps`), and the reps and flags recomputed from them."""
        if self.calibration is not None:
            raise ValueError("this analysis is calibrated already")
        steps = calibrate_steps(self.steps, calibration)
        return replace(self, steps=steps, balance=strength_balance(steps), written=[], calibration=calibration,
                       raw_steps=list(self.steps))

    def summary(self) -> str:
        """A few lines a coach can read: steps and median metrics per leg."""
        lines = [f"{self.source}: {self.placement} sensors, {', '.join(self.sides)}"]
        if self.calibration is not None:
            lines.append(f"  {self.calibration.describe()}")
        for side in self.sides:
            rows = [r for r in self.steps if r.side == side]

            def median(key, scale=1.0):
                values = np.array([getattr(r, key) for r in rows], dtype=float) * scale
                values = values[np.isfinite(values)]
                return f"{np.median(values):.0f}" if len(values) else "-"

            peaks = np.array([r.swing_peak_rad_s for r in rows], dtype=float)
            peaks = peaks[np.isfinite(peaks)]
            lines.append(
                f"  {side:5s} {len(rows):4d} steps   median contact {median('contact_s', 1e3)} ms   "
                f"flight {median('flight_s', 1e3)} ms   swing peak "
                f"{(f'{np.median(peaks):.1f}' if len(peaks) else '-')} rad/s"
            )
        lines.append(f"  {len(self.balance.reps)} reps")
        for flag in self.balance.flags:
            marker = "FLAG" if flag.alarm else "note"
            lines.append(f"  {marker} [{flag.scale}, rep {flag.rep}] {flag.message}")
        return "\n".join(lines)
