"""gaitmon.validation.evaluation: optimal event matching and agreement statistics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.analysis.steps import Step
from gaitmon.validation.evaluation import (
    agreement,
    contact_time_errors,
    evaluate,
    format_report,
    match_events,
    match_times,
    within_tolerance_fraction,
)
from gaitmon.events import GaitEvent

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)


def _reference(n_strides: int = 20, period: float = 0.5) -> list[GaitEvent]:
    """Alternating left/right strides: TO then IC, 50 ms apart from the other side's events."""
    events = []
    for k in range(n_strides):
        for side, offset in (("left", 0.0), ("right", period / 2)):
            t0 = 1.0 + k * period + offset
            events.append(GaitEvent(t0, side, "TO"))
            events.append(GaitEvent(t0 + 0.12, side, "IC"))
    return events


def _shift(events, dt):
    return [GaitEvent(e.t + dt, e.side, e.kind, e.value) for e in events]


def test_perfect_detection():
    ref = _reference()
    for kind in ("TO", "IC"):
        m = match_events(ref, ref, kind, 0.05)
        assert m.n_reference == m.n_detected == m.n_matched == 40
        assert m.recall == m.precision == m.f1 == 1.0
        np.testing.assert_array_equal(m.errors_s, 0.0)
        assert not m.missed and not m.false_detections
        assert [p.ref_t for p in m.pairs] == sorted(e.t for e in ref if e.kind == kind)


def test_shifted_detection_bias_equals_shift():
    ref = _reference()
    for shift in (-0.02, 0.007, 0.03):
        m = match_events(_shift(ref, shift), ref, "IC", 0.05)
        assert m.n_matched == 40
        ag = agreement(m.errors_s)
        assert ag["bias"] == pytest.approx(shift, abs=1e-12)
        assert ag["sd"] == pytest.approx(0.0, abs=1e-12)
        assert ag["mae"] == pytest.approx(abs(shift), abs=1e-12)
        assert ag["loa_low"] == pytest.approx(shift, abs=1e-10)
        assert ag["loa_high"] == pytest.approx(shift, abs=1e-10)


def test_false_detections_lower_precision_only():
    ref = _reference()
    extra = [GaitEvent(1.0 + 0.5 * k + 0.37, "left", "IC") for k in range(10)]  # far from any IC
    m = match_events(ref + extra, ref, "IC", 0.05)
    assert m.n_detected == 50 and m.n_matched == 40
    assert m.recall == 1.0
    assert m.precision == pytest.approx(40 / 50)
    assert m.f1 == pytest.approx(2 * 0.8 * 1.0 / 1.8)
    assert sorted(e.t for e in m.false_detections) == sorted(e.t for e in extra)
    np.testing.assert_array_equal(m.errors_s, 0.0)


def test_missed_events_lower_recall_only():
    ref = _reference()
    det = [e for i, e in enumerate(ref) if i % 4 != 1]  # drop every other IC
    m = match_events(det, ref, "IC", 0.05)
    assert m.n_matched == 20 and m.precision == 1.0 and m.recall == 0.5
    assert len(m.missed) == 20


def test_tolerance_is_respected():
    ref = [GaitEvent(1.0, "left", "IC"), GaitEvent(2.0, "left", "IC")]
    assert match_events(_shift(ref, 0.05), ref, "IC", 0.05).n_matched == 2  # inclusive
    assert match_events(_shift(ref, -0.05), ref, "IC", 0.05).n_matched == 2
    assert match_events(_shift(ref, 0.051), ref, "IC", 0.05).n_matched == 0
    # float rounding of the difference does not decide (0.30 - 0.25 != 0.05 in binary)
    assert match_times([0.25], [0.30], 0.05) == [(0, 0)]
    m = match_events(_shift(ref, 0.051), ref, "IC", 0.05)
    assert m.recall == 0 and m.precision == 0 and m.f1 == 0 and m.errors_s.size == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        match_events([], [], "HS", 0.05)
    with pytest.raises(ValueError, match="tolerance"):
        match_events([], [], "IC", -0.01)
    with pytest.raises(ValueError, match="sorted"):
        match_times([2.0, 1.0], [1.0], 0.05)


def test_sides_and_kinds_are_never_mixed():
    ref = [GaitEvent(1.0, "left", "IC")]
    assert match_events([GaitEvent(1.0, "right", "IC")], ref, "IC", 0.1).n_matched == 0
    assert match_events([GaitEvent(1.0, "left", "TO")], ref, "IC", 0.1).n_matched == 0


def test_close_events_matched_one_to_one_optimally():
    # Greedy nearest-first takes (0.07, 0.04) first (|Δ| = 0.03) and then matches nothing else;
    # the optimum matches both references.
    assert match_times([0.0, 0.07], [0.04, 0.12], 0.05) == [(0, 0), (1, 1)]
    # One detection between two references: only one of them gets it (the nearer).
    assert match_times([1.0, 1.06], [1.04], 0.05) == [(1, 0)]
    # Two detections near one reference: one match, the nearer, the other is a false detection.
    ref = [GaitEvent(1.0, "left", "TO")]
    det = [GaitEvent(0.99, "left", "TO"), GaitEvent(1.005, "left", "TO")]
    m = match_events(det, ref, "TO", 0.05)
    assert m.n_matched == 1 and m.pairs[0].det_t == 1.005 and m.false_detections[0].t == 0.99
    # A dense burst: every reference has two candidates; all five must be matched, in order.
    r = [0.0, 0.03, 0.06, 0.09, 0.12]
    d = [0.02, 0.05, 0.08, 0.11, 0.14]
    assert match_times(r, d, 0.025) == [(i, i) for i in range(5)]
    # The same burst shifted the other way round: pairs cross nothing, total error minimal.
    assert match_times(d, r, 0.025) == [(i, i) for i in range(5)]


def _brute_force(r, d, tol):
    """(largest number of pairs, smallest total |Δ| among those) over all one-to-one matchings."""
    best = [0, 0.0]

    def rec(i, used, count, cost):
        if i == len(r):
            if count > best[0] or (count == best[0] and cost < best[1]):
                best[:] = [count, cost]
            return
        rec(i + 1, used, count, cost)
        for j in range(len(d)):
            if j not in used and abs(r[i] - d[j]) <= tol + 1e-9:
                rec(i + 1, used | {j}, count + 1, cost + abs(r[i] - d[j]))

    rec(0, frozenset(), 0, 0.0)
    return best[0], best[1]


_times = st.lists(st.integers(0, 40).map(lambda k: k * 0.01), max_size=6).map(sorted)


@SETTINGS
@given(r=_times, d=_times, tol=st.sampled_from([0.0, 0.01, 0.025, 0.05, 0.1]))
def test_matching_is_optimal_and_one_to_one(r, d, tol):
    pairs = match_times(r, d, tol)
    refs = [i for i, _ in pairs]
    dets = [j for _, j in pairs]
    assert len(set(refs)) == len(refs) and len(set(dets)) == len(dets)  # one-to-one
    assert all(abs(r[i] - d[j]) <= tol + 1e-9 for i, j in pairs)  # within tolerance
    assert refs == sorted(refs) and dets == sorted(dets)  # non-crossing
    count, cost = _brute_force(r, d, tol)
    assert len(pairs) == count
    assert sum(abs(r[i] - d[j]) for i, j in pairs) == pytest.approx(cost, abs=1e-9)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(r=_times, d=_times, tol=st.sampled_from([0.01, 0.05]))
def test_matching_is_symmetric_in_counts(r, d, tol):
    assert len(match_times(r, d, tol)) == len(match_times(d, r, tol))


def test_large_tolerance_many_events_is_fast_and_complete():
    rng = np.random.default_rng(1)
    r = np.sort(rng.uniform(0, 900, 5000))
    d = np.sort(r + rng.normal(0, 0.01, r.size))
    pairs = match_times(r, d, 1.0)  # every event has ~10 candidates
    assert len(pairs) == r.size


def test_agreement_statistics():
    e = np.array([0.01, -0.02, 0.03, 0.0, 0.005])
    ag = agreement(e)
    assert ag["n"] == 5
    assert ag["bias"] == pytest.approx(e.mean())
    assert ag["sd"] == pytest.approx(e.std(ddof=1))
    assert ag["mae"] == pytest.approx(np.abs(e).mean())
    assert ag["median_abs"] == pytest.approx(0.01)
    assert ag["rmse"] == pytest.approx(math.sqrt(np.mean(e**2)))
    assert ag["loa_low"] == pytest.approx(e.mean() - 1.96 * e.std(ddof=1))
    assert ag["loa_high"] == pytest.approx(e.mean() + 1.96 * e.std(ddof=1))
    assert ag["p95_abs"] == pytest.approx(np.percentile(np.abs(e), 95))
    empty = agreement([])
    assert empty["n"] == 0 and all(math.isnan(v) for k, v in empty.items() if k != "n")
    one = agreement([0.004])
    assert one["bias"] == 0.004 and math.isnan(one["sd"]) and math.isnan(one["loa_low"])
    with pytest.raises(ValueError):
        agreement([0.1, float("nan")])


def test_within_tolerance_fraction():
    e = [0.0, 0.002, -0.004, 0.013, -0.0131, 0.5]
    assert within_tolerance_fraction(e, 100.0) == pytest.approx(4 / 6)  # limit 10 ms + 3 ms
    assert within_tolerance_fraction(e, 1000.0, extra_s=0.0) == pytest.approx(1 / 6)
    assert math.isnan(within_tolerance_fraction([], 100.0))
    with pytest.raises(ValueError):
        within_tolerance_fraction(e, 0.0)


def test_evaluate_and_format_report():
    ref = _reference()
    det = _shift(ref, 0.004) + [GaitEvent(50.0, "left", "TO")]
    report = evaluate(det, ref, 0.05, sample_rate_hz=500.0)
    json.dumps(report)  # plain data
    assert set(report["kinds"]) == {"TO", "IC"}
    to, ic = report["kinds"]["TO"], report["kinds"]["IC"]
    assert to["n_detected"] == 41 and to["n_matched"] == 40 and ic["precision"] == 1.0
    assert ic["agreement"]["bias"] == pytest.approx(0.004)
    assert ic["within_fraction"] == 1.0
    assert report["within_limit_s"] == pytest.approx(0.005)
    c = report["combined"]
    assert (c["n_reference"], c["n_detected"], c["n_matched"]) == (80, 81, 80)
    assert c["f1"] == pytest.approx(2 * 80 / 161)
    text = format_report(report)
    lines = text.splitlines()
    assert any(ln.startswith("TO") and "+4.0" in ln and "97.6%" not in ln for ln in lines)
    assert any(ln.startswith("all") for ln in lines)
    assert "100.0%" in text
    # without a sample rate, and with nothing detected: no crash, n/a where undefined
    text = format_report(evaluate([], ref, 0.05))
    assert "n/a" in text and "within" not in text


def test_contact_time_errors():
    ref = [
        Step("left", 1.0, contact_s=0.100),
        Step("left", 1.5, contact_s=0.110),
        Step("right", 1.25, contact_s=0.105),
        Step("right", 1.75, contact_s=float("nan")),
    ]
    det = [
        Step("left", 1.004, contact_s=0.096),
        Step("left", 1.3, contact_s=0.2),  # no reference within tolerance
        Step("left", 1.502, contact_s=0.112),
        Step("right", 1.249, contact_s=0.108),
        Step("right", 1.75, contact_s=0.1),  # reference contact unknown
        Step("right", float("nan"), contact_s=0.1),  # ignored
    ]
    errors = contact_time_errors(det, ref, 0.02)
    np.testing.assert_allclose(errors, [-0.004, 0.003, 0.002], atol=1e-12)
    assert agreement(errors)["mae"] == pytest.approx(0.003)


def test_contact_time_errors_from_built_steps():
    """The path of ``gaitmon accuracy``: steps built from detected and from reference events."""
    from gaitmon.analysis.steps import build_steps

    ref = _reference()
    det = [GaitEvent(e.t + (0.005 if e.kind == "IC" else 0.002), e.side, e.kind) for e in ref]
    det = [e for e in det if not (e.side == "right" and e.kind == "TO" and e.t > 10.5)]  # last right TO lost
    errors = contact_time_errors(build_steps(det, sides=("left", "right")),
                                 build_steps(ref, sides=("left", "right")), 0.05)
    # every reference contact but the last of each leg (no TO after it) and the right leg's lost one
    assert errors.size == 2 * 19 - 1
    np.testing.assert_allclose(errors, -0.003, atol=1e-9)
