"""Reps, push-side vs swing-side trends, and the strength-balance flags.

``strength_balance(steps)`` runs everything a session's step table supports: reps
(:mod:`~gaitmon.analysis.reps`), then flags across the steps of each rep and across the reps
(:mod:`~gaitmon.analysis.flags`). ``session_scale_flags`` takes several sessions of one athlete.
Medians, baselines, % changes and the trend lines drawn next to the flags follow one convention,
:mod:`~gaitmon.analysis.balance`.
The same functions serve offline analysis and are the specification of live use:
:class:`LiveStrengthBalance` gives ``strength_balance(steps so far, now_s)`` at any time, updated
from the steps that changed (closed reps are never re-segmented, each assessment is made once), so
its cost does not grow with the session and live and offline agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from gaitmon.analysis.flags import FLAG_COLUMNS as FLAG_COLUMNS
from gaitmon.analysis.flags import Flag as Flag
from gaitmon.analysis.flags import FlagHistory
from gaitmon.analysis.flags import rep_scale_flags as rep_scale_flags
from gaitmon.analysis.flags import session_scale_flags as session_scale_flags
from gaitmon.analysis.flags import step_scale_flags as step_scale_flags
from gaitmon.analysis.reps import REP_COLUMNS as REP_COLUMNS
from gaitmon.analysis.reps import LiveReps, same_objects
from gaitmon.analysis.reps import Rep as Rep
from gaitmon.analysis.reps import segment_reps as segment_reps
from gaitmon.analysis.steps import STEP_COLUMNS as STEP_COLUMNS
from gaitmon.analysis.steps import Step as Step


@dataclass
class StrengthBalance:
    """A session's reps and the flags raised in it (in the order they were raised)."""

    reps: list[Rep]
    flags: list[Flag]

    def rep_rows(self) -> list[dict]:
        return [row for rep in self.reps for row in rep.table_rows()]

    def flag_rows(self) -> list[dict]:
        return [flag.row() for flag in self.flags]

    @property
    def alarms(self) -> list[Flag]:
        return [flag for flag in self.flags if flag.alarm]


#: A rep still counts as in progress this long after its last step (s), unless walking followed it.
REP_SETTLE_S = 2.0


def strength_balance(steps: list[Step], now_s: float | None = None) -> StrengthBalance:
    """Reps and flags (steps and reps scales) of one session's step table.

    Parameters
    ----------
    steps : list of Step
        The step table so far (:func:`gaitmon.analysis.steps.build_steps`).
    now_s : float, optional
        Live use: the current time on the session clock. A rep is only analysed once it is over —
        walking steps followed it, or no step came for ``REP_SETTLE_S`` — so the flags after each
        rep are exactly those an offline analysis of the same steps gives.
    """
    reps = segment_reps(steps)
    if now_s is not None and reps and not _rep_over(reps[-1], steps, now_s):
        reps = reps[:-1]
    return StrengthBalance(reps, _in_order(step_scale_flags(reps) + rep_scale_flags(reps)))


def _in_order(flags: list[Flag]) -> list[Flag]:
    """By rep, the steps scale before the reps scale (the order they are raised in)."""
    return sorted(flags, key=lambda f: (f.rep, f.scale != "steps"))


def _rep_over(rep: Rep, steps: list[Step], now_s: float) -> bool:
    last = rep.steps[-1].ic_s
    walked_after = any(r.ic_s > last and r.flight_s <= 0.0 for r in steps)
    return walked_after or now_s - last > REP_SETTLE_S


class LiveStrengthBalance:
    """``strength_balance(steps, now_s)`` of a growing step table, updated from what changed.

    Feed it the step table after each change (:meth:`update`, with the index of the first changed
    step, as :class:`~gaitmon.analysis.steps.StepTable` reports it) and ask for the result at any
    session time (:meth:`at`). The reps come from :class:`~gaitmon.analysis.reps.LiveReps`, the
    flags of each scale from a :class:`~gaitmon.analysis.flags.FlagHistory`: a closed rep is
    segmented and summarised once, and each assessment after a rep is made once.

    Attributes
    ----------
    reps : LiveReps
        The incremental segmentation (all reps, the one under way included).
    """

    def __init__(self) -> None:
        self.reps = LiveReps()
        self._flags = (FlagHistory("steps"), FlagHistory("reps"))
        self._last: StrengthBalance | None = None

    def update(self, steps: list[Step], first_changed: int) -> None:
        """``steps`` is the step table now; it equals the last one given before ``first_changed``."""
        self.reps.update(steps, first_changed)

    def at(self, now_s: float) -> StrengthBalance:
        """``strength_balance(steps, now_s=now_s)`` of the last table given."""
        reps = self.reps.reps()
        if reps:
            last = reps[-1].steps[-1].ic_s
            if not (self.reps.walked_after(last) or now_s - last > REP_SETTLE_S):
                reps = reps[:-1]
        if self._last is not None and same_objects(self._last.reps, reps):
            return self._last  # the same reps: the same flags, the same object
        self._last = StrengthBalance(reps, _in_order([f for history in self._flags for f in history.flags(reps)]))
        return self._last


__all__ = [
    "FLAG_COLUMNS", "Flag", "LiveStrengthBalance", "REP_COLUMNS", "Rep", "STEP_COLUMNS", "Step", "StrengthBalance",
    "rep_scale_flags", "segment_reps", "session_scale_flags", "step_scale_flags", "strength_balance",
]
