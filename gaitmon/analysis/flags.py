"""The strength-balance flag at three scales: steps of a rep, reps of a session, sessions.

The question each flag answers: *has the swing-side output stopped rising while the push-side
output is still rising?* (and the mirror, and "both have plateaued"). Swing side: peak mid-swing
shank angular velocity. Push side: the spring-mass peak-force estimate (flight and contact time).
The evidence for and against reading this as a hip-flexor limit is in ``docs/strength-balance.md``;
every flag is an observation with its numbers, never a diagnosis.

How a flag is decided (the same at every scale; statistics in :mod:`gaitmon.analysis.trends`):

1. Normalise each leg's outputs to that athlete's own baseline (first rep of the session, the rep's
   own top speed, the first session): both sides in % change, no population norms (the arithmetic
   and its convention: :mod:`gaitmon.analysis.balance`, which the dashboard and the report draw).
2. Over the recent window (the last ``window`` reps / steps / sessions) estimate the swing, push
   and balance (push − swing) trends with confidence intervals: 90 %, widened by Bonferroni for
   the number of sides tested together (left, right, both: 96.7 % each).
3. Classify (:func:`~gaitmon.analysis.trends.classify`).
4. **Minimum evidence**: nothing is decided before ``min_units`` reps / steps / sessions.
5. **Hysteresis**: a flag is raised only when two assessments in a row support it, and withdrawn
   only when two in a row do not; one odd rep neither raises nor clears it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from gaitmon.analysis.balance import (LEGS, PUSH, REP_WINDOW, SESSION_WINDOW, SIDES_AND_BOTH, SWING,
                                      leg_medians, per_side_confidence, percent_points, top_speed_rows)
from gaitmon.analysis.reps import Rep
from gaitmon.analysis.steps import Step
from gaitmon.analysis.trends import Trend, classify, group_trend, median, smallest_worthwhile_change, theil_sen

FLAG_COLUMNS: tuple[str, ...] = (
    "scale", "rep", "side", "kind", "message", "covers", "swing_slope_pct", "swing_ci_low_pct",
    "swing_ci_high_pct", "push_slope_pct", "push_ci_low_pct", "push_ci_high_pct", "balance_slope_pct",
    "balance_ci_low_pct", "balance_ci_high_pct", "swing_swc_pct", "push_swc_pct", "n_units",
)

ALARMS = ("swing_plateau", "push_plateau")

SCALE_UNITS = {"steps": "step", "reps": "rep", "sessions": "session"}

#: Reps before the rep-scale flag decides anything (its minimum evidence).
MIN_REPS = 4

#: Each kind of flag as what was measured, in plain words (:attr:`Flag.headline`).
HEADLINES = {
    "swing_plateau": "swing-side output stalled while push-side rose",
    "push_plateau": "push-side output stalled while swing-side rose",
    "both_plateau": "swing- and push-side outputs both levelled off",
}


@dataclass(frozen=True)
class Flag:
    """One raised flag and what it rests on (slopes in % of the athlete's baseline per unit)."""

    scale: str  # "steps", "reps" or "sessions"
    rep: int  # the rep it was raised on (0 at the sessions scale)
    side: str  # "left", "right" or "both"
    kind: str  # "swing_plateau", "push_plateau", "both_plateau"
    covers: str  # e.g. "reps 3-6"
    swing: Trend
    push: Trend
    balance: Trend
    swing_swc: float
    push_swc: float
    session: str = ""

    @property
    def alarm(self) -> bool:
        return self.kind in ALARMS

    @property
    def headline(self) -> str:
        """What was measured, in a few plain words and without a verdict (its numbers: :attr:`slopes`)."""
        return HEADLINES[self.kind]

    @property
    def slopes(self) -> str:
        """Who, over what, and the two slopes with their CIs, e.g. ``"left leg, reps 3-8: swing +0.1 %/rep,
        97 % CI -0.4 to +0.6; push +1.9 %/rep, 97 % CI +1.3 to +2.4"``."""
        unit = SCALE_UNITS[self.scale]
        who = "both legs" if self.side == "both" else f"{self.side} leg"
        return f"{who}, {self.covers}: swing {self.swing.describe(unit)}; push {self.push.describe(unit)}"

    @property
    def message(self) -> str:
        unit = SCALE_UNITS[self.scale]
        who = {"both": "Both legs", "left": "Left leg", "right": "Right leg"}[self.side]
        swing = self.swing.describe(unit)
        push = self.push.describe(unit)
        if self.kind == "swing_plateau":
            return (f"{who}, {self.covers}: swing speed has stopped rising ({swing}) while push force is "
                    f"still rising ({push}). An observation to look into, not a diagnosis.")
        if self.kind == "push_plateau":
            return (f"{who}, {self.covers}: push force has stopped rising ({push}) while swing speed is "
                    f"still rising ({swing}). An observation to look into, not a diagnosis.")
        return f"{who}, {self.covers}: swing ({swing}) and push ({push}) have both levelled off."

    def row(self) -> dict:
        return {
            "scale": self.scale, "rep": self.rep, "side": self.side, "kind": self.kind,
            "message": self.message, "covers": self.covers,
            "swing_slope_pct": self.swing.slope, "swing_ci_low_pct": self.swing.low,
            "swing_ci_high_pct": self.swing.high, "push_slope_pct": self.push.slope,
            "push_ci_low_pct": self.push.low, "push_ci_high_pct": self.push.high,
            "balance_slope_pct": self.balance.slope, "balance_ci_low_pct": self.balance.low,
            "balance_ci_high_pct": self.balance.high,
            "swing_swc_pct": self.swing_swc, "push_swc_pct": self.push_swc, "n_units": self.swing.n,
        }


class FlagTracker:
    """Hysteresis for one scale: which flag each side shows, raised/cleared on two agreeing updates.

    Parameters
    ----------
    scale : str
        "steps", "reps" or "sessions".
    """

    def __init__(self, scale: str):
        self.scale = scale
        self.shown: dict[str, str | None] = {}
        self.last: dict[str, str | None] = {}

    def update(self, side: str, kind: str | None, **flag_fields) -> Flag | None:
        """Feed one assessment's kind (or None); returns a Flag when one is newly raised."""
        previous, self.last[side] = self.last.get(side), kind
        if kind == self.shown.get(side) or kind != previous:
            return None  # nothing new, or not yet confirmed by a second assessment
        self.shown[side] = kind
        if kind is None:
            return None
        return Flag(self.scale, side=side, kind=kind, **flag_fields)


def _assess(tracker: FlagTracker, units, baselines, covers: str, rep: int, grouped: bool,
            session: str = "", sides=SIDES_AND_BOTH) -> list[Flag]:
    estimate = group_trend if grouped else theil_sen
    # Each side is a separate test of the same question: Bonferroni keeps the chance of a false
    # alarm on any of them at the level of one.
    confidence = per_side_confidence(len(sides))
    flags = []
    for side in sides:
        if side != "both" and not all(math.isfinite(v) for v in baselines[side].values()):
            continue
        p = percent_points(units, side, baselines)
        swing = estimate(p.x, p.swing, confidence)
        push = estimate(p.x, p.push, confidence)
        balance = estimate(p.x, p.push - p.swing, confidence)
        swing_swc = smallest_worthwhile_change(p.swing, p.x if grouped else np.zeros(len(p.x)))
        push_swc = smallest_worthwhile_change(p.push, p.x if grouped else np.zeros(len(p.x)))
        kind = classify(swing, push, balance, swing_swc, push_swc)
        flag = tracker.update(side, kind, rep=rep, covers=covers, swing=swing, push=push, balance=balance,
                              swing_swc=swing_swc, push_swc=push_swc, session=session)
        if flag is not None:
            flags.append(flag)
    return flags


def rep_scale_flags(reps: list[Rep], window: int = REP_WINDOW, min_reps: int = MIN_REPS) -> list[Flag]:
    """Across the reps of a session, re-assessed after each rep (as live).

    Each rep contributes its top-speed steps; each leg is normalised to its first rep
    (:mod:`gaitmon.analysis.balance`, whose :func:`~gaitmon.analysis.balance.rep_trend` is the
    assessment after the last rep).
    """
    tracker = FlagTracker("reps")
    return [flag for k in range(min_reps, len(reps) + 1) for flag in rep_assessment(tracker, reps, k, window)]


def rep_assessment(tracker: FlagTracker, reps: list[Rep], k: int, window: int = REP_WINDOW) -> list[Flag]:
    """The rep-scale assessment after rep ``k`` (1-based) of ``reps``: flags newly raised by ``tracker``.

    Depends on ``reps[:k]`` only (and on the tracker's state after the assessment before).
    """
    recent = reps[max(0, k - window):k]
    units = [(rep.number, rep.top_speed) for rep in recent]
    covers = f"reps {recent[0].number}-{recent[-1].number}"
    return _assess(tracker, units, leg_medians(reps[0].top_speed), covers, rep=reps[k - 1].number, grouped=True)


def step_scale_flags(reps: list[Rep], min_previous: int = 2, min_steps: int = 8) -> list[Flag]:
    """Within each rep's acceleration, against the athlete's own acceleration in earlier reps.

    During any sprint start the swing side levels off before the push side (step frequency
    plateaus after the first few steps while step length keeps growing [MP24]), so a raw
    within-rep comparison would flag every rep. Instead each acceleration step is expressed in %
    of the median of the *same leg's same step* in the earlier reps of the session (at least
    ``min_previous`` of them); x is the step number in the rep. A flag says: as this acceleration went
    on, the swing side fell behind its usual curve while the push side kept up with its own. Each
    rep is assessed once its acceleration is over (at least ``min_steps`` steps), and, as at every
    scale, two reps in a row must agree before a flag is raised or cleared. With only 6–8
    acceleration steps per leg, one leg alone is too little to judge: the legs are pooled.
    """
    tracker = FlagTracker("steps")
    return [flag for k in range(min_previous + 1, len(reps) + 1)
            for flag in step_assessment(tracker, reps, k, min_steps)]


def step_assessment(tracker: FlagTracker, reps: list[Rep], k: int, min_steps: int = 8) -> list[Flag]:
    """The step-scale assessment of rep ``k`` (1-based) of ``reps`` against the reps before it: flags
    newly raised by ``tracker`` (none when its acceleration has fewer than ``min_steps`` steps).

    Depends on ``reps[:k]`` only (and on the tracker's state after the assessment before).
    """
    rep = reps[k - 1]
    rows = _against_usual_curve(rep.acceleration, [r.acceleration for r in reps[:k - 1]])
    if len(rows) < min_steps:
        return []
    units = [(i + 1, [row]) for i, row in enumerate(rows)]  # distinct x: Sen's CI assumes no ties
    covers = f"rep {rep.number} acceleration steps 1-{len(rows)}"
    return _assess(tracker, units, _UNIT_BASELINES, covers, rep=rep.number, grouped=False, sides=("both",))


class FlagHistory:
    """The flags of one scale over a growing list of reps, each assessment made once.

    Assessment ``k`` depends on the first ``k`` reps only, so while they are the same objects its
    flags and the tracker's state after it are kept; a call resumes after the longest unchanged
    prefix (a new rep costs one assessment, a rep dropped or renumbered redoes those after it).

    Parameters
    ----------
    scale : str
        ``"reps"`` (:func:`rep_assessment` after each rep from the 4th) or ``"steps"``
        (:func:`step_assessment` of each rep from the 3rd), with those functions' defaults.
    """

    def __init__(self, scale: str):
        self.scale = scale
        self._first, self._assess = {"reps": (MIN_REPS, rep_assessment), "steps": (3, step_assessment)}[scale]
        self._reps: list[Rep] = []
        self._after: list[tuple[dict, dict, list[Flag]]] = []  # per k from first: tracker state, its flags

    def flags(self, reps: list[Rep]) -> list[Flag]:
        """``rep_scale_flags(reps)`` or ``step_scale_flags(reps)``."""
        same = 0
        while same < min(len(reps), len(self._reps)) and reps[same] is self._reps[same]:
            same += 1
        del self._after[max(0, same - self._first + 1):]
        self._reps = list(reps)
        tracker = FlagTracker(self.scale)
        if self._after:
            shown, last, _ = self._after[-1]
            tracker.shown, tracker.last = dict(shown), dict(last)
        for k in range(self._first + len(self._after), len(reps) + 1):
            raised = self._assess(tracker, reps, k)
            self._after.append((dict(tracker.shown), dict(tracker.last), raised))
        return [flag for _, _, raised in self._after for flag in raised]


#: The step scale works on values already expressed relative to the usual curve (1.0 = usual).
_UNIT_BASELINES = {leg: {SWING: 1.0, PUSH: 1.0} for leg in LEGS}


def _leg_order(rows: list[Step]) -> dict[str, list[Step]]:
    return {leg: [r for r in rows if r.side == leg] for leg in LEGS}


def _against_usual_curve(rows: list[Step], earlier: list[list[Step]]) -> list[Step]:
    """Copies of ``rows`` with the outputs divided by the earlier reps' median at the same leg step."""
    history = [_leg_order(rows_) for rows_ in earlier]
    out = []
    for leg, leg_rows in _leg_order(rows).items():
        for j, row in enumerate(leg_rows):
            usual = {key: median([getattr(h[leg][j], key) for h in history if j < len(h[leg])])
                     for key in (SWING, PUSH)}
            out.append(replace(row, swing_peak_rad_s=row.swing_peak_rad_s / usual[SWING],
                               push_force_bw=row.push_force_bw / usual[PUSH]))
    return sorted(out, key=lambda r: r.ic_s)


def session_scale_flags(sessions: list[tuple[str, list[Rep]]], window: int = SESSION_WINDOW,
                        min_sessions: int = 4) -> list[Flag]:
    """Across an athlete's sessions (oldest first), re-assessed after each session.

    Each session contributes the top-speed steps of all its reps; each leg is normalised to the
    first session with reps.
    """
    sessions = [(name, reps) for name, reps in sessions if reps]
    if not sessions:
        return []
    tracker = FlagTracker("sessions")
    baselines = leg_medians(top_speed_rows(sessions[0][1]))
    flags = []
    for k in range(min_sessions, len(sessions) + 1):
        recent = list(enumerate(sessions))[max(0, k - window):k]
        units = [(i + 1, top_speed_rows(reps)) for i, (_, reps) in recent]
        covers = f"sessions {recent[0][1][0]} to {recent[-1][1][0]}"
        flags += _assess(tracker, units, baselines, covers, rep=0, grouped=True, session=sessions[k - 1][0])
    return flags
