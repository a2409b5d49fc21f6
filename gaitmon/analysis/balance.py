"""Outputs in % of the athlete's own baseline, and their trends: one convention for everyone.

The strength-balance flags (:mod:`gaitmon.analysis.flags`), the dashboard
(:mod:`gaitmon.engine.model`), the report (:mod:`gaitmon.report.legs`) and the athlete history
(:mod:`gaitmon.session.history`) all take their medians, baselines, % changes and trend lines from
here, so a plotted line is the evidence behind the flag it sits next to.

Units
-----
Outputs keep the units of the step table (:mod:`gaitmon.analysis.steps`): the swing side is the peak
mid-swing shank angular velocity (``swing_peak_rad_s``, rad/s), the push side the spring-mass peak
force estimate (``push_force_bw``, body weights). A value *in % of its baseline* is its **change**
from it, ``percent_change(v, b) = 100 (v / b − 1)``: 0 is the baseline, +2 is 2 % above it. Slopes
are in % of the baseline per unit of x (per step, rep or session).

The convention (the one the rep-scale flag tests)
-------------------------------------------------
- **Baseline** of a leg: the median of that leg's top-speed steps in the session's first rep
  (``leg_medians(reps[0].top_speed)``, which equals ``reps[0].summary(leg)``). At the session scale:
  of all top-speed steps of the athlete's first session with reps. While the first rep is still
  under way (live only) the top-speed steps it has had so far stand in for it.
- **Across reps**: x is the rep number; a rep's point is that leg's top-speed median (its
  ``reps.csv`` value) in % of the baseline (:func:`rep_points`). The trend is the leg's latest
  rep-scale assessment (:func:`rep_trend`): over the last :data:`REP_WINDOW` reps, the
  random-effects meta-regression of each rep's *mean* over its top-speed steps in %
  (:func:`~gaitmon.analysis.trends.group_trend`), with its confidence interval at the flag's
  per-side level (:data:`REP_CONFIDENCE`: 90 %, Bonferroni-widened over left, right and both legs).
  When a rep-scale flag of that leg was raised on the last rep, it is that flag's swing or push
  trend exactly.
- **Across sessions**: x is the session's number among the athlete's sessions with reps; a session's
  point is that leg's median over the top-speed steps of all its reps in % of the first session's
  (what ``gaitmon history`` lists). The trend is the leg's latest session-scale assessment
  (:func:`session_trend`), as across reps but over the last :data:`SESSION_WINDOW` sessions.
- **Across the steps of a rep**: x is the leg's step number in the run (1 = its first step), y each
  step's output in % of the same baseline (:func:`step_points`); the trend is Theil–Sen at 90 %
  (every step a unit, as at the flags' step scale).
- **Drawing** (:func:`trend_line`): a trend is drawn over its window, first to last x, through the
  mean of the plotted points it covers, with the lines of its CI's two slopes as a fan around it.
  The slope and its CI are the evidence; the height at which the line is drawn is for the eye only
  (the rep points are medians, the fit is of means).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gaitmon.analysis.steps import Step
from gaitmon.analysis.trends import CONFIDENCE, UNKNOWN, Trend, group_trend, median, theil_sen

#: The two outputs the strength balance compares (:class:`~gaitmon.analysis.steps.Step` fields).
SWING = "swing_peak_rad_s"
PUSH = "push_force_bw"
BALANCE_OUTPUTS = (SWING, PUSH)
LEGS = ("left", "right")
#: The sides every rep-scale assessment tests together: each leg, and both pooled.
SIDES_AND_BOTH = ("left", "right", "both")
#: Reps in a rep-scale assessment (the flag's window, and that of the trend lines across reps).
REP_WINDOW = 6
#: Sessions in a session-scale assessment (the flag's window, and that of the trend lines across sessions).
SESSION_WINDOW = 6


def per_side_confidence(n_sides: int, confidence: float = CONFIDENCE) -> float:
    """Confidence level of each of ``n_sides`` tests of one question (Bonferroni): ``1 − (1 − c) / n``."""
    return 1.0 - (1.0 - confidence) / n_sides


#: Confidence level of each side's rep-scale trends: 96.7 % (90 % over left, right and both).
REP_CONFIDENCE = per_side_confidence(len(SIDES_AND_BOTH))


# -- arithmetic -------------------------------------------------------------------------------------


def percent_change(value: float, baseline: float) -> float:
    """``100 (value / baseline − 1)``, in %: 0 at the baseline. NaN unless both are finite and baseline > 0."""
    if not (math.isfinite(baseline) and baseline > 0 and math.isfinite(value)):
        return float("nan")
    return 100.0 * (value / baseline - 1.0)


def leg_medians(rows: Iterable[Step], keys: Sequence[str] = BALANCE_OUTPUTS) -> dict[str, dict[str, float]]:
    """leg → output → median over that leg's steps among ``rows`` (NaN when it has none).

    Of a rep's top-speed steps: the rep's per-leg summary; of the first rep's: the baseline.
    """
    rows = list(rows)
    return {leg: {key: median([getattr(r, key) for r in rows if r.side == leg]) for key in keys} for leg in LEGS}


def top_speed_rows(reps: Iterable) -> list[Step]:
    """The top-speed steps of all ``reps`` (:class:`~gaitmon.analysis.reps.Rep`), in order: a session's unit."""
    return [row for rep in reps for row in rep.top_speed]


@dataclass
class Points:
    """Normalised data of one side: x (the unit each step belongs to), swing %, push % (one per step)."""

    x: np.ndarray
    swing: np.ndarray
    push: np.ndarray


def percent_points(units: Iterable[tuple[float, list[Step]]], side: str,
                   baselines: Mapping[str, Mapping[str, float]]) -> Points:
    """Every step of ``side`` in ``units`` (``(x, rows)`` pairs), each output in % of its leg's baseline.

    ``side`` is ``"left"``, ``"right"`` or ``"both"`` (both legs, each against its own baseline);
    ``baselines`` is leg → output → baseline value, as :func:`leg_medians` gives.
    """
    x, swing, push = [], [], []
    legs = LEGS if side == "both" else (side,)
    for unit_x, rows in units:
        for row in rows:
            if row.side not in legs:
                continue
            base = baselines[row.side]
            x.append(unit_x)
            swing.append(percent_change(getattr(row, SWING), base[SWING]))
            push.append(percent_change(getattr(row, PUSH), base[PUSH]))
    return Points(np.asarray(x, float), np.asarray(swing, float), np.asarray(push, float))


# -- across reps and across steps -------------------------------------------------------------------


def rep_baselines(reps: Sequence) -> dict[str, dict[str, float]]:
    """leg → output → baseline: the medians of the first rep's top-speed steps (NaN without reps)."""
    return leg_medians(reps[0].top_speed if reps else [])


def rep_points(reps: Sequence, side: str, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Rep numbers, and each rep's top-speed median of ``key`` for leg ``side`` in % of the first rep's."""
    base = rep_baselines(reps)[side][key]
    x = np.array([rep.number for rep in reps], float)
    y = np.array([percent_change(rep.summary(side)[key], base) for rep in reps], float)
    return x, y


def rep_trend(reps: Sequence, side: str, key: str, window: int = REP_WINDOW) -> Trend:
    """``side``'s rep-scale trend of ``key`` over the last ``window`` reps, as the flag estimates it.

    This is the assessment :func:`gaitmon.analysis.flags.rep_scale_flags` makes after the last rep
    (slope in % of the first rep per rep, CI at :data:`REP_CONFIDENCE`); unknown with fewer than 3
    reps of at least 2 top-speed steps.
    """
    recent = reps[-window:]
    points = percent_points([(rep.number, rep.top_speed) for rep in recent], side, rep_baselines(reps))
    return group_trend(points.x, points.swing if key == SWING else points.push, REP_CONFIDENCE)


def session_trend(sessions: Sequence[Sequence], side: str, key: str, window: int = SESSION_WINDOW) -> Trend:
    """``side``'s session-scale trend of ``key`` after the last of ``sessions`` (each a list of reps,
    oldest first; those without reps are skipped), as the session-scale flag estimates it.

    The random-effects regression (:func:`~gaitmon.analysis.trends.group_trend`) of each session's
    top-speed steps in % of the first session's medians, on the session's number among those with
    reps, over the last ``window`` of them: slope in % per session, CI at :data:`REP_CONFIDENCE`
    (90 % over left, right and both legs, as the flag). Unknown with fewer than 3 usable sessions.
    """
    sessions = [reps for reps in sessions if reps]
    if not sessions:
        return UNKNOWN
    units = [(i, top_speed_rows(reps)) for i, reps in enumerate(sessions, 1)][-window:]
    points = percent_points(units, side, leg_medians(top_speed_rows(sessions[0])))
    return group_trend(points.x, points.swing if key == SWING else points.push, REP_CONFIDENCE)


def step_points(rows: Sequence[Step], side: str, key: str, baseline: float) -> tuple[np.ndarray, np.ndarray]:
    """Leg ``side``'s steps among ``rows``: step numbers 1…n and ``key`` in % of ``baseline``."""
    values = [percent_change(getattr(r, key), baseline) for r in rows if r.side == side]
    return np.arange(1, len(values) + 1, dtype=float), np.array(values, float)


@dataclass(frozen=True)
class TrendLine:
    """A trend over ``x0 … x1`` drawn through the mean of the points it covers (% per unit of x).

    ``y0, y1`` are the fitted line's ends; ``low0, low1`` and ``high0, high1`` the ends of the lines
    with the confidence interval's lower and upper slopes (a fan around the mean point).
    ``source`` names the estimator: ``"meta_regression"`` (across reps, :func:`rep_trend`) or
    ``"theil_sen"`` (across steps).
    """

    x0: float
    x1: float
    y0: float
    y1: float
    low0: float
    low1: float
    high0: float
    high1: float
    slope: float
    low: float
    high: float
    confidence: float
    n: int
    source: str


def trend_line(trend: Trend, x: np.ndarray, y: np.ndarray, x0: float, x1: float, source: str) -> TrendLine | None:
    """``trend`` drawn over ``x0 … x1`` through the mean of the finite points in that range (None if none)."""
    inside = (x >= x0) & (x <= x1) & np.isfinite(y)
    if not (trend.known and inside.any()):
        return None
    xm, ym = float(np.mean(x[inside])), float(np.mean(y[inside]))

    def ends(slope: float) -> tuple[float, float]:
        return ym + slope * (x0 - xm), ym + slope * (x1 - xm)

    (y0, y1), (low0, low1), (high0, high1) = ends(trend.slope), ends(trend.low), ends(trend.high)
    return TrendLine(float(x0), float(x1), y0, y1, low0, low1, high0, high1, trend.slope, trend.low, trend.high,
                     trend.confidence, trend.n, source)


def rep_trend_line(reps: Sequence, side: str, key: str, window: int = REP_WINDOW) -> TrendLine | None:
    """:func:`rep_trend` drawn over its window's reps through :func:`rep_points`; None when unknown."""
    if not reps:
        return None
    x, y = rep_points(reps, side, key)
    recent = reps[-window:]
    return trend_line(rep_trend(reps, side, key, window), x, y, float(recent[0].number), float(recent[-1].number),
                      "meta_regression")


def step_trend_line(x: np.ndarray, y: np.ndarray) -> TrendLine | None:
    """Theil–Sen trend (90 %) of the steps' % values, over their first to last finite point."""
    keep = np.isfinite(y)
    if keep.sum() < 3:
        return None
    return trend_line(theil_sen(x[keep], y[keep]), x, y, float(x[keep][0]), float(x[keep][-1]), "theil_sen")
