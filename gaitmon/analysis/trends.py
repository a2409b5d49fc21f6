"""Trends with honest uncertainty, and the comparison behind every strength-balance flag.

Outputs are first normalised to the athlete's own baseline, so every slope is in **% of baseline
per unit of x** (per step, per rep, per session) and the swing side and the push side share one
scale. Three trends are estimated over the same window, each with a confidence interval:

- ``swing``: the swing-side output (peak mid-swing shank angular velocity);
- ``push``: the push-side output (spring-mass peak-force estimate);
- ``balance``: push − swing, step by step. Whatever moves both together from one rep to the next
  (a slightly faster or slower rep, wind, a tired athlete) cancels in it, which is what makes
  "one side stalls while the other still rises" detectable within a session.

Two estimators, chosen by what the data points are:

- across the steps of a rep every step is a unit: the **Theil–Sen** slope (median of pairwise
  slopes, robust to a mis-detected step) with its confidence interval (Sen 1968;
  ``scipy.stats.theilslopes``);
- across reps or sessions each unit is a *group* of steps whose mean has its own standard error,
  and whole reps vary beyond their steps' noise. Treating steps as independent there would
  over-state the certainty (pseudo-replication), so the slope comes from a **random-effects
  meta-regression** of the group means on x (DerSimonian & Laird 1986 between-group variance,
  inverse-variance weights), with a normal confidence interval.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

#: Default two-sided confidence level of a slope interval (each bound a 95 % one-sided test).
#: Callers testing several sides at once widen it (Bonferroni), see gaitmon.analysis.flags.
CONFIDENCE = 0.90
#: Floor of a group's standard error, % (a group whose steps all read the same is not exact).
MIN_SE_PCT = 0.1


@dataclass(frozen=True)
class Trend:
    """A slope in % of the athlete's baseline per unit of x, with its confidence interval."""

    slope: float
    low: float
    high: float
    n: int
    confidence: float = CONFIDENCE

    @property
    def known(self) -> bool:
        return math.isfinite(self.slope)

    def describe(self, unit: str) -> str:
        if not self.known:
            return f"not enough data (n={self.n})"
        return f"{self.slope:+.1f} %/{unit}, {100 * self.confidence:.0f} % CI {self.low:+.1f} to {self.high:+.1f}"


UNKNOWN = Trend(float("nan"), float("nan"), float("nan"), 0)


def median(values: Iterable[float]) -> float:
    """Median of the finite values; NaN when there are none.

    Equal to ``numpy.median`` of them bit for bit (the middle value, or the two middle ones summed
    and halved), in plain Python: these lists hold a few dozen values, where numpy's call overhead
    is most of the cost.
    """
    finite = sorted(v for v in map(float, values) if math.isfinite(v))
    n = len(finite)
    if not n:
        return float("nan")
    mid = n // 2
    return finite[mid] if n % 2 else (finite[mid - 1] + finite[mid]) / 2.0


def theil_sen(x, y, confidence: float = CONFIDENCE) -> Trend:
    """Theil–Sen slope of ``y`` on ``x`` with its CI (points are independent units)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 3 or np.ptp(x) == 0:
        return Trend(float("nan"), float("nan"), float("nan"), int(len(x)))
    from scipy import stats  # here: scipy.stats takes ~1 s to import, and ``gaitmon history`` needs none of it

    slope, _, low, high = stats.theilslopes(y, x, alpha=confidence)
    return Trend(float(slope), float(low), float(high), int(len(x)), confidence)


def meta_regression(x, means, standard_errors, confidence: float = CONFIDENCE) -> Trend:
    """Random-effects slope of group means on ``x`` (DerSimonian–Laird), with its CI.

    Parameters
    ----------
    x : array_like
        One value per group (rep or session number).
    means, standard_errors : array_like
        Each group's mean (%) and the standard error of that mean (%).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(means, dtype=float)
    v = np.maximum(np.asarray(standard_errors, dtype=float), MIN_SE_PCT) ** 2
    keep = np.isfinite(x) & np.isfinite(y) & np.isfinite(v)
    x, y, v = x[keep], y[keep], v[keep]
    n = len(x)
    if n < 3 or np.ptp(x) == 0:
        return Trend(float("nan"), float("nan"), float("nan"), int(n))
    design = np.column_stack([np.ones(n), x])

    def weighted_fit(weights):
        normal = design.T @ (weights[:, None] * design)
        coef = np.linalg.solve(normal, design.T @ (weights * y))
        return coef, np.linalg.inv(normal)

    w0 = 1.0 / v
    coef0, inverse0 = weighted_fit(w0)
    q = float(np.sum(w0 * (y - design @ coef0) ** 2))
    scale = float(np.sum(w0) - np.trace(inverse0 @ (design.T @ ((w0**2)[:, None] * design))))
    tau2 = max(0.0, (q - (n - 2)) / scale) if scale > 0 else 0.0
    coef, covariance = weighted_fit(1.0 / (v + tau2))
    half = _normal_quantile(0.5 + confidence / 2) * math.sqrt(covariance[1, 1])
    return Trend(float(coef[1]), float(coef[1] - half), float(coef[1] + half), int(n), confidence)


@functools.lru_cache(maxsize=None)
def _normal_quantile(p: float) -> float:
    """The standard normal distribution's quantile (a handful of confidence levels recur: kept)."""
    from scipy.special import ndtri  # what scipy.stats.norm.ppf computes (bit for bit), without importing scipy.stats

    return float(ndtri(p))


def group_trend(x, y, confidence: float = CONFIDENCE) -> Trend:
    """Random-effects slope over the groups of steps sharing an ``x`` (reps, sessions): one mean per group.

    ``x`` and ``y`` hold one entry per step (``y`` in %); groups of fewer than two finite values are
    left out. Each mean's standard error uses the within-group SD *pooled* over all groups (the same
    athlete and sensor throughout): a rep whose few top-speed steps happen to agree closely must not
    be taken as near-exact. The slope is :func:`meta_regression` of the group means on ``x``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return grouped_trend([(unit, y[(x == unit) & np.isfinite(y)]) for unit in np.unique(x)], confidence)


def grouped_trend(groups, confidence: float = CONFIDENCE) -> Trend:
    """:func:`group_trend` of values already grouped: ``(x, the group's finite y values in step order)``
    pairs, x ascending (what :func:`group_trend` forms of its arguments; the same result bit for bit)."""
    groups = [(unit, v) for unit, v in groups if len(v) >= 2]
    if not groups:
        return meta_regression([], [], [], confidence)
    residuals = np.concatenate([v - v.mean() for _, v in groups])
    pooled_sd = math.sqrt(float(np.sum(residuals**2)) / (len(residuals) - len(groups)))
    return meta_regression([unit for unit, _ in groups], [float(v.mean()) for _, v in groups],
                           [pooled_sd / math.sqrt(len(v)) for _, v in groups], confidence)


def classify(swing: Trend, push: Trend, balance: Trend, swing_swc: float, push_swc: float) -> str | None:
    """The flag kind the three trends support, or None.

    - ``swing_plateau``: push outpaces swing beyond doubt (balance CI above 0), push is rising and
      swing rises at less than half its rate;
    - ``push_plateau``: the mirror;
    - ``both_plateau``: neither rises by the athlete's smallest worthwhile change (both CIs end
      below it) — reported, not an alarm.
    """
    if not (swing.known and push.known and balance.known):
        return None
    if balance.low > 0.0 and push.slope > 0.0 and swing.slope < 0.5 * push.slope:
        return "swing_plateau"
    if balance.high < 0.0 and swing.slope > 0.0 and push.slope < 0.5 * swing.slope:
        return "push_plateau"
    if swing.high < swing_swc and push.high < push_swc:
        return "both_plateau"
    return None


def smallest_worthwhile_change(values_pct, groups, fraction: float = 0.5, floor: float = 0.5) -> float:
    """``fraction`` × the athlete's within-group (step-to-step) SD of the normalised values, in %.

    A per-unit change smaller than half of the athlete's own step-to-step noise cannot be told
    from that noise in practice; ``floor`` (%) keeps a very steady athlete from demanding
    sub-measurement precision. Used only to call "both plateaued".
    """
    values_pct = np.asarray(values_pct, dtype=float)
    groups = np.asarray(groups)
    residuals = [group_residuals(values_pct[(groups == g) & np.isfinite(values_pct)]) for g in np.unique(groups)]
    return pooled_worthwhile_change(residuals, fraction, floor)


def group_residuals(finite_values: np.ndarray) -> np.ndarray:
    """A group's finite values minus their median (none for a group of fewer than two): its part of
    :func:`smallest_worthwhile_change`."""
    if len(finite_values) < 2:
        return np.empty(0)
    return finite_values - median(finite_values)


def pooled_worthwhile_change(residuals, fraction: float = 0.5, floor: float = 0.5) -> float:
    """:func:`smallest_worthwhile_change` of the groups' :func:`group_residuals`, in group order."""
    pooled = np.concatenate(residuals) if residuals else np.empty(0)
    if len(pooled) < 2:
        return floor
    return max(floor, fraction * float(np.std(pooled, ddof=1)))
