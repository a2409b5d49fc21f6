"""What one analysis produced: events, steps, the strength balance, and where it was written."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from gaitmon.analysis import StrengthBalance, strength_balance
from gaitmon.analysis.flags import MIN_REPS
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

    def summary(self, title: str | None = None) -> str:
        """What a coach reads at the end of a session: ``title`` (default: the source), steps and
        median metrics per leg, then one line per rep (:meth:`rep_lines`)."""
        lines = [f"{title or self.source}: {_count(len(self.balance.reps), 'rep')}, {_count(len(self.steps), 'step')} "
                 f"({self.placement} sensors: {' and '.join(self.sides)})"]
        if self.calibration is not None:
            lines.append(f"  {self.calibration.describe()}")
        for side in self.sides:
            rows = [r for r in self.steps if r.side == side]

            def median(key, scale=1.0, digits=0):
                values = np.array([getattr(r, key) for r in rows], dtype=float) * scale
                values = values[np.isfinite(values)]
                return f"{np.median(values):.{digits}f}" if len(values) else "-"

            lines.append(f"  {side + ' leg:':10s} {_count(len(rows), 'step')}, median contact "
                         f"{median('contact_s', 1e3)} ms, flight {median('flight_s', 1e3)} ms, "
                         f"swing peak {median('swing_peak_rad_s', digits=1)} rad/s")
        lines += self.rep_lines()
        return "\n".join(lines)

    def rep_lines(self) -> list[str]:
        """One line per rep: the flags raised after it (what was measured, with the numbers), or its
        top-speed outputs when none was; a further flag raised on the same rep gets its own line. Then
        one line on how to read them."""
        raised: dict[int, list] = {}
        for flag in self.balance.flags:
            raised.setdefault(flag.rep, []).append(flag)
        lines, any_before = [], False
        for rep in self.balance.reps:
            flags = raised.get(rep.number, [])
            if not flags:
                both = rep.table_rows()[-1]
                lines.append(f"Rep {rep.number}: {'no new flag' if any_before else 'no flag'} (top speed: swing "
                             f"peak {both['swing_peak_rad_s']:.1f} rad/s, push {both['push_force_bw']:.2f} "
                             f"× body weight, contact {1e3 * both['contact_s']:.0f} ms)")
            for i, flag in enumerate(flags):
                head = f"Rep {rep.number}:" if i == 0 else " " * len(f"Rep {rep.number}:")
                lines.append(f"{head} {'flag' if flag.alarm else 'note'} — {flag.headline} ({flag.slopes})")
            any_before = any_before or bool(flags)
        if self.balance.flags:
            lines.append("A flag reports what was measured against this athlete's own earlier reps; it is an "
                         "observation to look into, not a diagnosis.")
        elif 0 < len(self.balance.reps) < MIN_REPS:
            lines.append(f"No flag: the strength-balance check across reps needs at least {MIN_REPS} reps "
                         f"(this session has {len(self.balance.reps)}).")
        elif 0 < len(self.balance.reps) < 8:
            lines.append(f"No flag in {len(self.balance.reps)} reps; with fewer than 8 a plateau is often too small "
                         "to tell from rep-to-rep scatter, so this is not proof of balance.")
        return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
