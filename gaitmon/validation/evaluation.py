"""Agreement between detected and reference gait events (and step contact times).

Matching
--------
Detections are compared with reference events of the same kind and side. A detection at ``d`` can
be matched to a reference event at ``r`` when ``|d - r| <= tolerance_s`` (plus 1 ns of slack so that
float rounding of times such as ``0.30 - 0.25`` does not decide a match). Each reference event is
matched to at most one detection and vice versa, and the matching is *optimal*: it has the largest
possible number of matched pairs and, among those, the smallest total ``|d - r|``.

Greedy nearest-first matching is not optimal when events are close together (a detection between
two reference events can be taken by the wrong one and leave another unmatched). Because the
times are one-dimensional, some optimal matching never has crossing pairs (if ``r1 < r2`` are
matched to ``d2``, ``d1`` with ``d1 < d2``, swapping partners keeps both pairs within tolerance and
does not increase the total error), so it is found exactly by a dynamic programme over the two
sorted sequences that only visits candidate pairs: ``O(n + m + pairs)``.

Errors are ``detected - reference`` in seconds: a positive error means the detection is late.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from gaitmon.analysis.steps import Step
from gaitmon.consts import EVENT_KINDS, SIDES
from gaitmon.events import GaitEvent

__all__ = [
    "EventMatch",
    "MatchedPair",
    "agreement",
    "contact_time_errors",
    "evaluate",
    "format_report",
    "match_events",
    "match_times",
    "within_tolerance_fraction",
]

#: Slack added to every tolerance, s, so that float rounding of times does not decide a match.
MATCH_SLACK_S = 1e-9

#: Bland–Altman factor for 95 % limits of agreement.
LOA_Z = 1.96


class MatchedPair(NamedTuple):
    """One matched (reference, detection) pair; times in s."""

    ref_t: float
    det_t: float
    side: str


@dataclass(frozen=True)
class EventMatch:
    """Result of :func:`match_events` for one event kind (both sides pooled).

    Attributes
    ----------
    kind : str
        Event kind matched (``"TO"``, ``"MSW"`` or ``"IC"``).
    tolerance_s : float
        Largest ``|detected - reference|`` accepted for a match, s.
    n_reference, n_detected, n_matched : int
        Reference events, detections, matched pairs.
    recall : float
        ``n_matched / n_reference`` (NaN without reference events).
    precision : float
        ``n_matched / n_detected`` (NaN without detections).
    f1 : float
        ``2 n_matched / (n_reference + n_detected)``: the harmonic mean of precision and recall,
        0 when nothing matches, NaN when both lists are empty.
    errors_s : numpy.ndarray
        ``detected - reference`` per matched pair, s, in the order of ``pairs``.
    pairs : tuple of MatchedPair
        Matched pairs, sorted by reference time (then side).
    missed : tuple of GaitEvent
        Reference events without a detection (false negatives).
    false_detections : tuple of GaitEvent
        Detections without a reference event (false positives).
    """

    kind: str
    tolerance_s: float
    n_reference: int
    n_detected: int
    n_matched: int
    recall: float
    precision: float
    f1: float
    errors_s: np.ndarray = field(repr=False)
    pairs: tuple[MatchedPair, ...] = field(repr=False)
    missed: tuple[GaitEvent, ...] = field(repr=False, default=())
    false_detections: tuple[GaitEvent, ...] = field(repr=False, default=())


def _ratio(num: int, den: int) -> float:
    return num / den if den else math.nan


def _f1(n_matched: int, n_reference: int, n_detected: int) -> float:
    return _ratio(2 * n_matched, n_reference + n_detected)


def match_times(
    reference: Sequence[float], detected: Sequence[float], tolerance_s: float
) -> list[tuple[int, int]]:
    """Optimal one-to-one matching of two lists of times (one side, one kind).

    Parameters
    ----------
    reference, detected : sequence of float
        Times, s, each sorted in non-decreasing order.
    tolerance_s : float
        Largest ``|detected - reference|`` of a matched pair, s (plus :data:`MATCH_SLACK_S`).

    Returns
    -------
    list of (int, int)
        ``(reference index, detected index)`` pairs, increasing in both indices. Their number is
        the largest possible and, among matchings of that size, their total ``|Δt|`` the smallest.

    Notes
    -----
    Dynamic programme over candidate pairs in order of the reference index. ``best(k)`` is the
    best (count, -total error) of a non-crossing matching of the references seen so far with
    detections ``0..k``; it is kept explicitly only up to the last candidate detection seen, and
    is the overall best beyond it, so the work is linear in the number of candidate pairs.
    """
    r = np.asarray(reference, dtype=np.float64)
    d = np.asarray(detected, dtype=np.float64)
    if r.size == 0 or d.size == 0:
        return []
    if np.any(np.diff(r) < 0) or np.any(np.diff(d) < 0):
        raise ValueError("times must be sorted")
    if not (np.isfinite(r).all() and np.isfinite(d).all()):
        raise ValueError("times must be finite")
    tol = float(tolerance_s) + MATCH_SLACK_S
    lo = np.searchsorted(d, r - tol, side="left")
    hi = np.searchsorted(d, r + tol, side="right") - 1
    rl, dl = r.tolist(), d.tolist()

    # A state is (value, chain): value = (pairs, -total |Δt|), compared lexicographically;
    # chain = (ref index, det index, previous chain) of the last pair, or None.
    empty: tuple[tuple[int, float], Any] = ((0, 0.0), None)
    stored = [empty] * d.size  # best(k) for k <= h
    h = -1
    total = empty  # best over everything seen so far = best(k) for k > h

    def best(k: int) -> tuple[tuple[int, float], Any]:
        if k < 0:
            return empty
        return stored[k] if k <= h else total

    for i in range(r.size):
        first, last = int(lo[i]), int(hi[i])
        if first > last:
            continue
        ri = rl[i]
        candidates = []
        for j in range(first, last + 1):
            (count, neg_cost), parent = best(j - 1)
            candidates.append(((count + 1, neg_cost - abs(dl[j] - ri)), (i, j, parent)))
        for k in range(h + 1, first):  # detections between the two windows: overall best so far
            stored[k] = total
        running = None
        for k, cand in zip(range(first, last + 1), candidates):
            if running is None or cand[0] > running[0]:
                running = cand
            old = best(k)
            stored[k] = running if running[0] > old[0] else old
        if running[0] > total[0]:
            total = running
        h = last

    pairs = []
    node = total[1]
    while node is not None:
        pairs.append((node[0], node[1]))
        node = node[2]
    pairs.reverse()
    return pairs


def _side_order(side: str) -> tuple[int, str]:
    return (SIDES.index(side), side) if side in SIDES else (len(SIDES), side)


def _check_events(events: Iterable[GaitEvent], what: str) -> list[GaitEvent]:
    out = list(events)
    for e in out:
        if not math.isfinite(e.t):
            raise ValueError(f"{what} event with a non-finite time: {e!r}")
    return out


def match_events(
    detected: Iterable[GaitEvent],
    reference: Iterable[GaitEvent],
    kind: str,
    tolerance_s: float,
) -> EventMatch:
    """Match detected to reference events of one kind, per side, one-to-one and optimally.

    Parameters
    ----------
    detected, reference : iterable of GaitEvent
        Events in any order; only those of ``kind`` are used.
    kind : str
        ``"TO"``, ``"MSW"`` or ``"IC"``.
    tolerance_s : float
        Largest ``|detected - reference|`` of a matched pair, s (inclusive, plus 1 ns slack).

    Returns
    -------
    EventMatch
        Counts, recall, precision, F1, errors (``detected - reference``, s) and the pairs, both
        sides pooled. See the module docstring for how the matching works (:func:`match_times`).
    """
    if not (math.isfinite(tolerance_s) and tolerance_s >= 0):
        raise ValueError(f"tolerance_s must be a finite number >= 0, got {tolerance_s!r}")
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r} (expected one of {', '.join(EVENT_KINDS)})")
    det = [e for e in _check_events(detected, "detected") if e.kind == kind]
    ref = [e for e in _check_events(reference, "reference") if e.kind == kind]
    pairs: list[MatchedPair] = []
    missed: list[GaitEvent] = []
    false: list[GaitEvent] = []
    for side in sorted({e.side for e in det} | {e.side for e in ref}, key=_side_order):
        rs = sorted((e for e in ref if e.side == side), key=lambda e: e.t)
        ds = sorted((e for e in det if e.side == side), key=lambda e: e.t)
        matched = match_times([e.t for e in rs], [e.t for e in ds], tolerance_s)
        used_r = {i for i, _ in matched}
        used_d = {j for _, j in matched}
        pairs.extend(MatchedPair(rs[i].t, ds[j].t, side) for i, j in matched)
        missed.extend(e for i, e in enumerate(rs) if i not in used_r)
        false.extend(e for j, e in enumerate(ds) if j not in used_d)
    pairs.sort(key=lambda p: (p.ref_t, _side_order(p.side)))
    errors = np.array([p.det_t - p.ref_t for p in pairs], dtype=np.float64)
    n_ref, n_det, n_match = len(ref), len(det), len(pairs)
    return EventMatch(
        kind=kind,
        tolerance_s=float(tolerance_s),
        n_reference=n_ref,
        n_detected=n_det,
        n_matched=n_match,
        recall=_ratio(n_match, n_ref),
        precision=_ratio(n_match, n_det),
        f1=_f1(n_match, n_ref, n_det),
        errors_s=errors,
        pairs=tuple(pairs),
        missed=tuple(sorted(missed, key=lambda e: (e.t, _side_order(e.side)))),
        false_detections=tuple(sorted(false, key=lambda e: (e.t, _side_order(e.side)))),
    )


def agreement(errors_s: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Summary statistics of timing errors (Bland–Altman style).

    Parameters
    ----------
    errors_s : array_like
        ``detected - reference`` per matched pair, s. Must be finite.

    Returns
    -------
    dict
        ``n`` (int); in seconds: ``bias`` (mean), ``sd`` (sample standard deviation, ddof=1),
        ``mae`` (mean absolute error), ``median_abs``, ``rmse``, ``loa_low`` / ``loa_high``
        (95 % limits of agreement, ``bias ∓ 1.96 sd``), ``p95_abs`` (95th percentile of
        ``|error|``, linear interpolation). Statistics that need more errors than given are NaN
        (all of them for no errors; ``sd`` and the limits for a single error).
    """
    e = np.asarray(errors_s, dtype=np.float64).ravel()
    if not np.isfinite(e).all():
        raise ValueError("errors must be finite")
    nan = math.nan
    if e.size == 0:
        return {k: (0 if k == "n" else nan) for k in _AGREEMENT_KEYS}
    a = np.abs(e)
    bias = float(e.mean())
    sd = float(e.std(ddof=1)) if e.size > 1 else nan
    return {
        "n": int(e.size),
        "bias": bias,
        "sd": sd,
        "mae": float(a.mean()),
        "median_abs": float(np.median(a)),
        "rmse": float(np.sqrt(np.mean(e * e))),
        "loa_low": bias - LOA_Z * sd,
        "loa_high": bias + LOA_Z * sd,
        "p95_abs": float(np.percentile(a, 95)),
    }


_AGREEMENT_KEYS = ("n", "bias", "sd", "mae", "median_abs", "rmse", "loa_low", "loa_high", "p95_abs")


def within_tolerance_fraction(
    errors_s: Sequence[float] | np.ndarray, sample_rate_hz: float, extra_s: float = 0.003
) -> float:
    """Fraction of errors with ``|error| <= 1 / sample_rate_hz + extra_s`` (one sample plus slack).

    Parameters
    ----------
    errors_s : array_like
        ``detected - reference``, s.
    sample_rate_hz : float
        Sample rate of the detector's input, Hz (> 0).
    extra_s : float, optional
        Allowance on top of one sample period, s (default 3 ms).

    Returns
    -------
    float
        In [0, 1]; NaN when there are no errors.
    """
    if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise ValueError(f"sample_rate_hz must be > 0, got {sample_rate_hz!r}")
    e = np.asarray(errors_s, dtype=np.float64).ravel()
    if e.size == 0:
        return math.nan
    limit = 1.0 / sample_rate_hz + extra_s + MATCH_SLACK_S
    return float(np.mean(np.abs(e) <= limit))


def evaluate(
    detected: Iterable[GaitEvent],
    reference: Iterable[GaitEvent],
    tolerance_s: float,
    kinds: Sequence[str] = ("TO", "IC"),
    sample_rate_hz: float | None = None,
    extra_s: float = 0.003,
) -> dict[str, Any]:
    """Match and summarise detected against reference events for several kinds.

    Parameters
    ----------
    detected, reference : iterable of GaitEvent
        Events of all kinds and both sides.
    tolerance_s : float
        Matching tolerance, s (see :func:`match_events`).
    kinds : sequence of str, optional
        Event kinds to evaluate, default ``("TO", "IC")``.
    sample_rate_hz : float, optional
        When given, each kind also reports :func:`within_tolerance_fraction` (one sample period
        plus ``extra_s``).
    extra_s : float, optional
        See :func:`within_tolerance_fraction`.

    Returns
    -------
    dict
        Plain data (JSON-friendly; times in s)::

            {"tolerance_s": float, "sample_rate_hz": float | None,
             "within_limit_s": float | None,       # 1/fs + extra_s
             "kinds": {kind: {"n_reference", "n_detected", "n_matched",
                              "recall", "precision", "f1",
                              "agreement": agreement(errors),
                              "within_fraction": float | None}},
             "combined": {"n_reference", "n_detected", "n_matched",
                          "recall", "precision", "f1"}}   # all kinds pooled
    """
    det = _check_events(detected, "detected")
    ref = _check_events(reference, "reference")
    limit = None if sample_rate_hz is None else 1.0 / sample_rate_hz + extra_s
    report: dict[str, Any] = {
        "tolerance_s": float(tolerance_s),
        "sample_rate_hz": None if sample_rate_hz is None else float(sample_rate_hz),
        "within_limit_s": limit,
        "kinds": {},
    }
    totals = [0, 0, 0]
    for kind in kinds:
        m = match_events(det, ref, kind, tolerance_s)
        within = None
        if sample_rate_hz is not None:
            within = within_tolerance_fraction(m.errors_s, sample_rate_hz, extra_s)
        report["kinds"][kind] = {
            "n_reference": m.n_reference,
            "n_detected": m.n_detected,
            "n_matched": m.n_matched,
            "recall": m.recall,
            "precision": m.precision,
            "f1": m.f1,
            "agreement": agreement(m.errors_s),
            "within_fraction": within,
        }
        totals[0] += m.n_reference
        totals[1] += m.n_detected
        totals[2] += m.n_matched
    n_ref, n_det, n_match = totals
    report["combined"] = {
        "n_reference": n_ref,
        "n_detected": n_det,
        "n_matched": n_match,
        "recall": _ratio(n_match, n_ref),
        "precision": _ratio(n_match, n_det),
        "f1": _f1(n_match, n_ref, n_det),
    }
    return report


def _num(value: float | None, fmt: str, scale: float = 1.0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return format(value * scale, fmt)


def format_report(report: Mapping[str, Any]) -> str:
    """Human-readable table of an :func:`evaluate` report (times in ms).

    Columns: reference/detected/matched counts, recall, precision, F1, bias, SD, MAE, 95th
    percentile of ``|error|``, Bland–Altman 95 % limits of agreement, and (when a sample rate was
    given) the share of matched events within one sample + slack.
    """
    lines = [f"event matching tolerance: ±{_num(report['tolerance_s'], '.1f', 1e3)} ms"]
    limit = report.get("within_limit_s")
    if limit is not None:
        lines.append(
            f"'within' = share of matched events with |error| <= 1 sample + slack = "
            f"{limit * 1e3:.1f} ms at {report['sample_rate_hz']:g} Hz"
        )
    head = (
        f"{'kind':<5}{'ref':>6}{'det':>6}{'match':>6}{'recall':>8}{'prec':>7}{'F1':>7}"
        f"{'bias':>8}{'SD':>7}{'MAE':>7}{'p95':>7}  {'LoA (95%)':<18}"
    )
    if limit is not None:
        head += f"{'within':>7}"
    units = " " * 45 + f"{'ms':>8}{'ms':>7}{'ms':>7}{'ms':>7}  ms"
    lines += [head.rstrip(), units.rstrip()]
    for kind, k in report["kinds"].items():
        ag = k["agreement"]
        loa = "n/a"
        if not math.isnan(ag["loa_low"]):
            loa = f"[{ag['loa_low'] * 1e3:+.1f}, {ag['loa_high'] * 1e3:+.1f}]"
        row = (
            f"{kind:<5}{k['n_reference']:>6d}{k['n_detected']:>6d}{k['n_matched']:>6d}"
            f"{_num(k['recall'], '.3f'):>8}{_num(k['precision'], '.3f'):>7}{_num(k['f1'], '.3f'):>7}"
            f"{_num(ag['bias'], '+.1f', 1e3):>8}{_num(ag['sd'], '.1f', 1e3):>7}"
            f"{_num(ag['mae'], '.1f', 1e3):>7}{_num(ag['p95_abs'], '.1f', 1e3):>7}  {loa:<18}"
        )
        if limit is not None:
            w = k.get("within_fraction")
            row += f"{_num(w, '.1%') if w is not None else 'n/a':>7}"
        lines.append(row.rstrip())
    c = report["combined"]
    lines.append(
        f"{'all':<5}{c['n_reference']:>6d}{c['n_detected']:>6d}{c['n_matched']:>6d}"
        f"{_num(c['recall'], '.3f'):>8}{_num(c['precision'], '.3f'):>7}{_num(c['f1'], '.3f'):>7}"
    )
    return "\n".join(lines)


def contact_time_errors(
    detected_steps: Iterable[Step],
    reference_steps: Iterable[Step],
    tolerance_s: float,
) -> np.ndarray:
    """Contact-time errors of detected steps matched to reference steps.

    Steps are :class:`~gaitmon.analysis.steps.Step` records, of which ``side``, ``ic_s`` (initial
    contact time, s) and ``contact_s`` (contact time, s) are used; reference rows of another shape
    are made Steps by the caller (:meth:`Step.from_row <gaitmon.analysis.steps.Step.from_row>`).
    Per side, detected steps are matched one-to-one to reference steps by ``ic_s`` within
    ``tolerance_s`` exactly as events are (:func:`match_times`). Steps with a non-finite ``ic_s``
    are ignored; matched pairs where either ``contact_s`` is not finite give no error.

    Returns
    -------
    numpy.ndarray
        ``detected contact_s - reference contact_s``, s, per usable matched pair, ordered by the
        reference ``ic_s`` (pass to :func:`agreement` for the contact-time MAE).
    """
    if not (math.isfinite(tolerance_s) and tolerance_s >= 0):
        raise ValueError(f"tolerance_s must be a finite number >= 0, got {tolerance_s!r}")

    def by_side(steps: Iterable[Step]) -> dict[str, list[tuple[float, float]]]:
        out: dict[str, list[tuple[float, float]]] = {}
        for step in steps:
            if math.isfinite(step.ic_s):
                out.setdefault(step.side, []).append((step.ic_s, step.contact_s))
        for rows in out.values():
            rows.sort()
        return out

    det = by_side(detected_steps)
    ref = by_side(reference_steps)
    found: list[tuple[float, tuple[int, str], float]] = []
    for side in set(det) & set(ref):
        ds, rs = det[side], ref[side]
        for i, j in match_times([r[0] for r in rs], [d[0] for d in ds], tolerance_s):
            err = ds[j][1] - rs[i][1]
            if math.isfinite(err):
                found.append((rs[i][0], _side_order(side), err))
    found.sort()
    return np.array([f[2] for f in found], dtype=np.float64)
