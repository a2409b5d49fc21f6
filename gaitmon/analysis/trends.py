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
  the arithmetic of ``scipy.stats.theilslopes``);
- across reps or sessions each unit is a *group* of steps whose mean has its own standard error,
  and whole reps vary beyond their steps' noise. Treating steps as independent there would
  over-state the certainty (pseudo-replication), so the slope comes from a **random-effects
  meta-regression** of the group means on x (DerSimonian & Laird 1986 between-group variance,
  inverse-variance weights), with a normal confidence interval.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections import Counter
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
        return (f"{_signed(self.slope)} %/{unit}, {100 * self.confidence:.0f} % CI {_signed(self.low)} to "
                f"{_signed(self.high)}")


def _signed(value: float) -> str:
    """``value`` to one decimal with its sign; one that rounds to zero there gets a second decimal
    (``-0.05``: a bound just below zero must not read ``-0.0`` or ``+0.0``), and is ``0.0`` if it
    rounds to zero at two as well."""
    text = f"{value:+.1f}"
    if text[1:] != "0.0":
        return text
    text = f"{value:+.2f}"
    return "0.0" if text[1:] == "0.00" else text


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
    """Theil–Sen slope of ``y`` on ``x`` with its CI (points are independent units).

    The arithmetic of ``scipy.stats.theilslopes`` (the slopes of every pair with distinct x, their
    median; the CI from equation 2.6 of Sen 1968, ties in x and y counted), done on the few points of
    a rep in plain Python: scipy's argument handling costs ten times the estimate there.
    ``tests/unit/test_trends.py`` holds the two equal bit for bit.
    """
    points = [(a, b) for a, b in zip(map(float, x), map(float, y)) if math.isfinite(a) and math.isfinite(b)]
    n = len(points)
    if n < 3 or min(points)[0] == max(points)[0]:
        return Trend(float("nan"), float("nan"), float("nan"), n)
    slopes = sorted((yi - yj) / (xi - xj) for xi, yi in points for xj, yj in points if xi > xj)
    half = len(slopes) // 2
    slope = slopes[half] if len(slopes) % 2 else (slopes[half - 1] + slopes[half]) / 2.0
    alpha = 1.0 - confidence if confidence > 0.5 else confidence
    z = _normal_quantile(alpha / 2.0)
    ties = sum(k * (k - 1) * (2 * k + 5) for values in zip(*points) for k in Counter(values).values())
    variance = 1 / 18.0 * (n * (n - 1) * (2 * n + 5) - ties)
    low = high = float("nan")
    if variance >= 0.0:  # ties in both x and y can leave none: no interval, as scipy
        sigma = math.sqrt(variance)
        upper = min(int(round((len(slopes) - z * sigma) / 2.0)), len(slopes) - 1)
        lower = max(int(round((len(slopes) + z * sigma) / 2.0)) - 1, 0)
        with contextlib.suppress(IndexError):
            low, high = slopes[lower], slopes[upper]
    return Trend(slope, low, high, n, confidence)


def meta_regression(x, means, standard_errors, confidence: float = CONFIDENCE) -> Trend:
    """Random-effects slope of group means on ``x`` (DerSimonian–Laird), with its CI.

    Parameters
    ----------
    x : array_like
        One value per group (rep or session number).
    means, standard_errors : array_like
        Each group's mean (%) and the standard error of that mean (%).
    """
    groups = [(xi, yi, max(se, MIN_SE_PCT) ** 2)
              for xi, yi, se in zip(map(float, x), map(float, means), map(float, standard_errors))]
    groups = [(xi, yi, v) for xi, yi, v in groups if math.isfinite(xi) and math.isfinite(yi) and math.isfinite(v)]
    n = len(groups)
    if n < 3 or min(groups)[0] == max(groups)[0]:
        return Trend(float("nan"), float("nan"), float("nan"), n)
    xs = [xi for xi, _, _ in groups]
    ys = [yi for _, yi, _ in groups]
    w0 = [1.0 / v for _, _, v in groups]
    fixed = _WeightedLine(xs, ys, w0)
    q = sum(w * (yi - fixed.intercept - fixed.slope * xi) ** 2 for w, xi, yi in zip(w0, xs, ys))
    # Σw − trace((XᵀWX)⁻¹ XᵀW²X), the DerSimonian–Laird denominator, with the 2×2 inverse written out
    w2 = [w * w for w in w0]
    m00, m01, m11 = sum(w2), sum(w * xi for w, xi in zip(w2, xs)), sum(w * xi * xi for w, xi in zip(w2, xs))
    scale = fixed.s - (fixed.sxx * m00 - 2.0 * fixed.sx * m01 + fixed.s * m11) / fixed.det
    tau2 = max(0.0, (q - (n - 2)) / scale) if scale > 0 else 0.0
    random = _WeightedLine(xs, ys, [1.0 / (v + tau2) for _, _, v in groups])
    half = _normal_quantile(0.5 + confidence / 2) * math.sqrt(random.s / random.det)
    return Trend(random.slope, random.slope - half, random.slope + half, n, confidence)


class _WeightedLine:
    """Weighted least-squares line ``y = intercept + slope·x`` from the sums of its 2×2 normal
    equations (``det`` their determinant; ``s / det`` is the slope's variance for weights 1/σ²)."""

    def __init__(self, x: list[float], y: list[float], w: list[float]):
        self.s = sum(w)
        self.sx = sum(wi * xi for wi, xi in zip(w, x))
        self.sxx = sum(wi * xi * xi for wi, xi in zip(w, x))
        sy = sum(wi * yi for wi, yi in zip(w, y))
        sxy = sum(wi * xi * yi for wi, xi, yi in zip(w, x, y))
        self.det = self.s * self.sxx - self.sx * self.sx
        self.slope = (self.s * sxy - self.sx * sy) / self.det
        self.intercept = (self.sxx * sy - self.sx * sxy) / self.det


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
    return grouped_trend(_finite_by_group(x, y), confidence)


def grouped_trend(groups, confidence: float = CONFIDENCE) -> Trend:
    """:func:`group_trend` of values already grouped: ``(x, the group's finite y values in step order)``
    pairs, x ascending (what :func:`group_trend` forms of its arguments; the same result bit for bit)."""
    groups = [(unit, v, sum(v) / len(v)) for unit, v in groups if len(v) >= 2]
    if not groups:
        return meta_regression([], [], [], confidence)
    squares = sum((vi - mean) ** 2 for _, v, mean in groups for vi in v)
    pooled_sd = math.sqrt(squares / (sum(len(v) for _, v, _ in groups) - len(groups)))
    return meta_regression([unit for unit, _, _ in groups], [mean for _, _, mean in groups],
                           [pooled_sd / math.sqrt(len(v)) for _, v, _ in groups], confidence)


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
    return pooled_worthwhile_change([group_residuals(v) for _, v in _finite_by_group(groups, values_pct)],
                                    fraction, floor)


def group_residuals(finite_values) -> list[float]:
    """A group's finite values minus their median (none for a group of fewer than two): its part of
    :func:`smallest_worthwhile_change`."""
    if len(finite_values) < 2:
        return []
    centre = median(finite_values)
    return [float(v) - centre for v in finite_values]


def pooled_worthwhile_change(residuals, fraction: float = 0.5, floor: float = 0.5) -> float:
    """:func:`smallest_worthwhile_change` of the groups' :func:`group_residuals`, in group order."""
    pooled = [r for group in residuals for r in group]
    if len(pooled) < 2:
        return floor
    mean = sum(pooled) / len(pooled)
    sd = math.sqrt(sum((r - mean) ** 2 for r in pooled) / (len(pooled) - 1))
    return max(floor, fraction * sd)


def _finite_by_group(groups, values) -> list[tuple[float, list[float]]]:
    """The finite ``values`` of each group (in their order), the groups sorted: what masking the
    values with each of ``numpy.unique(groups)`` in turn gives, in one pass over a few dozen values."""
    by_group: dict[float, list[float]] = {}
    for g, v in zip(np.asarray(groups, dtype=float).tolist(), np.asarray(values, dtype=float).tolist()):
        if g == g and math.isfinite(v):  # a NaN group matches no value
            by_group.setdefault(g, []).append(v)
    return sorted(by_group.items())
