"""Reps, trends and the strength-balance flag on step tables with known answers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from gaitmon.analysis import segment_reps, session_scale_flags, strength_balance
from gaitmon.analysis.balance import (PUSH, REP_CONFIDENCE, SWING, leg_medians, percent_change, rep_points,
                                      rep_trend, rep_trend_line, step_points, step_trend_line)
from gaitmon.analysis.flags import FlagTracker, rep_scale_flags
from gaitmon.analysis.reps import asymmetry_pct, running_bouts
from gaitmon.analysis.steps import Step
from gaitmon.analysis.trends import Trend, classify, median, meta_regression, theil_sen


def _step(t, side, flight, swing=20.0, push=3.0, contact=0.11):
    return Step(side=side, ic_s=t, to_s=t + contact, contact_s=contact, flight_s=flight, step_s=contact + flight,
                step_hz=1 / (contact + flight), swing_s=0.35, swing_peak_rad_s=swing, push_force_bw=push,
                flight_source="measured")


def _rep(start, n=30, swing_top=20.0, push_top=3.0, rng=None, noise=0.02):
    """A rep: acceleration (outputs rising to top speed over 15 steps), then top speed, then 3 slowing steps."""
    rng = rng or np.random.default_rng(0)
    rows, t = [], start
    for i in range(n):
        speed = min(1.0, 0.5 + 0.5 * i / 15) if i < n - 3 else 0.7
        jitter = 1 + noise * rng.standard_normal(2)
        rows.append(_step(t, "left" if i % 2 == 0 else "right", 0.1,
                          swing=swing_top * speed * jitter[0], push=push_top * (0.6 + 0.4 * speed) * jitter[1]))
        t += 0.22
    return rows


def _walk(start, n=20):
    return [_step(start + 0.55 * i, "left" if i % 2 == 0 else "right", -0.12, swing=4.5, push=float("nan"),
                  contact=0.67) for i in range(n)]


def _session(swing_tops, push_tops, seed=0, noise=0.02):
    rng = np.random.default_rng(seed)
    steps, t = _walk(0.0), 12.0
    for swing_top, push_top in zip(swing_tops, push_tops):
        steps += _rep(t, swing_top=swing_top, push_top=push_top, rng=rng, noise=noise)
        steps += _walk(t + 8.0)
        t += 30.0
    return steps


def test_reps_are_running_bouts_of_sprint_speed():
    steps = _session([20.0] * 3, [3.0] * 3)
    jog = [_step(200.0 + 0.3 * i, "left" if i % 2 == 0 else "right", 0.08, swing=9.0, push=2.2) for i in range(12)]
    reps = segment_reps(steps + jog)
    assert [r.number for r in reps] == [1, 2, 3]  # the slow jog is not a rep
    assert all(len(r.steps) == 30 for r in reps)
    assert len(running_bouts(steps + jog)) == 4
    rep = reps[0]
    assert rep.acceleration and rep.top_speed and rep.deceleration
    assert rep.acceleration[-1].ic_s < rep.top_speed[0].ic_s < rep.deceleration[0].ic_s
    summary = rep.summary("left")
    assert summary["swing_peak_rad_s"] == pytest.approx(20.0, rel=0.05)
    rows = rep.table_rows()
    assert [r["side"] for r in rows] == ["left", "right", "both"]


def test_asymmetry():
    assert asymmetry_pct(11.0, 9.0) == pytest.approx(20.0)
    assert math.isnan(asymmetry_pct(float("nan"), 9.0))


def test_theil_sen_and_meta_regression_recover_slopes():
    steps = np.arange(1, 31, dtype=float)
    ts = theil_sen(steps, 2.0 * steps + np.random.default_rng(1).normal(0, 1.0, len(steps)))
    assert ts.low < 2.0 < ts.high
    x = np.repeat(np.arange(1, 7), 8).astype(float)
    y = 2.0 * x + np.random.default_rng(1).normal(0, 1.0, len(x))
    means = [np.mean(y[x == k]) for k in range(1, 7)]
    pooled = np.sqrt(np.mean([np.var(y[x == k], ddof=1) for k in range(1, 7)]))
    ses = [pooled / np.sqrt(8)] * 6
    mr = meta_regression(range(1, 7), means, ses)
    assert mr.low < 2.0 < mr.high and mr.low > 1.0
    assert not theil_sen([1, 1, 1], [1, 2, 3]).known


_values = st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 1))  # rounded: ties happen


@settings(deadline=None, max_examples=300)
@given(st.lists(st.tuples(st.integers(0, 6).map(float), _values), min_size=0, max_size=14),
       st.sampled_from([0.90, 0.95, 0.975, 0.05]))
def test_theil_sen_is_scipys_arithmetic_bit_for_bit(points, confidence):
    x = [p[0] for p in points] + [math.nan]
    y = [p[1] for p in points] + [1.0]
    ours = theil_sen(x, y, confidence)
    if len(points) < 3 or len({p[0] for p in points}) == 1:
        assert not ours.known and ours.n == len(points)
        return
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        slope, _, low, high = stats.theilslopes(y[:-1], x[:-1], alpha=confidence)
    assert (ours.slope, ours.n) == (slope, len(points))
    assert np.array_equal([ours.low, ours.high], [low, high], equal_nan=True)


def test_meta_regression_widens_for_rep_to_rep_scatter():
    """Steps agree within a rep but whole reps scatter: the slope must not look certain."""
    rng = np.random.default_rng(2)
    rep_offsets = rng.normal(0, 3.0, 6)
    means = rep_offsets  # no trend at all
    narrow = meta_regression(range(1, 7), means, [0.2] * 6)
    assert narrow.low < 0.0 < narrow.high


def test_classify():
    rising, flat = Trend(2.0, 1.0, 3.0, 6), Trend(0.0, -0.5, 0.5, 6)
    assert classify(flat, rising, Trend(2.0, 1.0, 3.0, 6), 1.0, 1.0) == "swing_plateau"
    assert classify(rising, flat, Trend(-2.0, -3.0, -1.0, 6), 1.0, 1.0) == "push_plateau"
    assert classify(flat, flat, Trend(0.0, -0.5, 0.5, 6), 1.0, 1.0) == "both_plateau"
    assert classify(rising, rising, Trend(0.0, -1.0, 1.0, 6), 1.0, 1.0) is None


def test_hysteresis_needs_two_agreeing_assessments():
    tracker = FlagTracker("reps")
    fields = dict(rep=1, covers="", swing=Trend(0, 0, 0, 1), push=Trend(0, 0, 0, 1), balance=Trend(0, 0, 0, 1),
                  swing_swc=1.0, push_swc=1.0)
    assert tracker.update("both", "swing_plateau", **fields) is None
    assert tracker.update("both", None, **fields) is None  # one odd assessment: nothing raised
    assert tracker.update("both", "swing_plateau", **fields) is None
    assert tracker.update("both", "swing_plateau", **fields).kind == "swing_plateau"
    assert tracker.update("both", None, **fields) is None  # one contrary assessment does not clear it
    assert tracker.update("both", "swing_plateau", **fields) is None  # still shown, not raised again
    assert tracker.update("both", None, **fields) is None
    assert tracker.update("both", None, **fields) is None  # cleared now
    assert tracker.shown["both"] is None


def _gains(n, rise, plateau_from=None):
    return [1 + rise * (min(k, plateau_from) if plateau_from else k) for k in range(n)]


def test_swing_plateau_session_is_flagged_and_balanced_is_not():
    swing = [20.0 * g for g in _gains(8, 0.02, plateau_from=2)]
    push = [3.0 * g for g in _gains(8, 0.02)]
    result = strength_balance(_session(swing, push))
    kinds = {(f.scale, f.kind) for f in result.alarms}
    assert ("reps", "swing_plateau") in kinds
    flag = next(f for f in result.alarms if f.kind == "swing_plateau")
    assert flag.rep >= 5 and "reps" in flag.covers
    assert flag.swing.slope < flag.push.slope and flag.balance.low > 0
    assert "not a diagnosis" in flag.message
    row = flag.row()
    assert {"scale", "rep", "side", "kind", "message"} <= set(row)

    balanced = strength_balance(_session([20.0 * g for g in _gains(8, 0.02)], [3.0 * g for g in _gains(8, 0.02)]))
    assert not balanced.alarms


def test_mirror_and_both_plateaued():
    rising = [g for g in _gains(8, 0.02)]
    mirror = strength_balance(_session([20.0 * g for g in rising], [3.0 * g for g in _gains(8, 0.02, plateau_from=2)]))
    assert {f.kind for f in mirror.alarms if f.scale == "reps"} == {"push_plateau"}
    flat = strength_balance(_session([20.0] * 8, [3.0] * 8))
    assert not flat.alarms
    assert any(f.kind == "both_plateau" for f in flat.flags)


def test_minimum_evidence():
    swing = [20.0, 20.4, 20.4]
    push = [3.0, 3.06, 3.12]
    assert rep_scale_flags(segment_reps(_session(swing, push))) == []


def test_flags_across_sessions():
    sessions = []
    for week in range(6):
        swing = 20.0 * (1 + 0.02 * min(week, 2))
        push = 3.0 * (1 + 0.02 * week)
        reps = segment_reps(_session([swing] * 3, [push] * 3, seed=week))
        sessions.append((f"week {week + 1}", reps))
    flags = session_scale_flags(sessions)
    alarms = [f for f in flags if f.alarm]
    assert alarms and alarms[0].kind == "swing_plateau" and alarms[0].scale == "sessions"
    assert alarms[0].session.startswith("week")


def test_live_updates_agree_with_offline_analysis():
    """Re-running on the steps so far after every step gives, rep by rep, the offline flags."""
    swing = [20.0 * g for g in _gains(8, 0.02, plateau_from=2)]
    push = [3.0 * g for g in _gains(8, 0.02)]
    steps = sorted(_session(swing, push), key=lambda r: r.ic_s)
    offline = strength_balance(steps)
    seen = []
    for i in range(1, len(steps) + 1):
        live = strength_balance(steps[:i], now_s=steps[i - 1].ic_s)
        assert all(rep.number <= len(offline.reps) for rep in live.reps)
        for flag in live.flags:
            if flag not in seen:
                seen.append(flag)
    assert [(f.scale, f.rep, f.side, f.kind) for f in seen] == [(f.scale, f.rep, f.side, f.kind) for f in offline.flags]


# -- the one convention for % of rep 1 and trend lines (gaitmon.analysis.balance) --------------------


def test_percent_change_and_median_are_nan_safe():
    assert percent_change(3.06, 3.0) == pytest.approx(2.0)
    assert percent_change(3.0, 3.0) == 0.0  # 0 is the baseline
    for value, baseline in ((3.0, 0.0), (3.0, -1.0), (3.0, float("nan")), (float("nan"), 3.0), (3.0, math.inf)):
        assert math.isnan(percent_change(value, baseline))
    assert median([1.0, float("nan"), 3.0, 2.0]) == 2.0
    assert math.isnan(median([])) and math.isnan(median([float("nan")]))
    rows = [Step("left", 0.0, swing_peak_rad_s=20.0, push_force_bw=3.0),
            Step("left", 0.3, swing_peak_rad_s=22.0, push_force_bw=float("nan")),
            Step("right", 0.2, swing_peak_rad_s=19.0, push_force_bw=2.9)]
    medians = leg_medians(rows)
    assert medians["left"] == {SWING: 21.0, PUSH: 3.0} and medians["right"] == {SWING: 19.0, PUSH: 2.9}
    assert all(math.isnan(v) for v in leg_medians([])["left"].values())


def test_the_plotted_rep_trend_is_the_flags_own_assessment():
    """Every rep-scale flag's swing and push trends are rep_trend of the reps up to the flag's rep."""
    swing = [20.0 * g for g in _gains(8, 0.02, plateau_from=2)]
    push = [3.0 * g for g in _gains(8, 0.02)]
    result = strength_balance(_session(swing, push))
    flags = [f for f in result.flags if f.scale == "reps"]
    assert flags and {f.side for f in flags} >= {"left", "right"}
    for flag in flags:
        reps = result.reps[:flag.rep]
        assert rep_trend(reps, flag.side, SWING) == flag.swing
        assert rep_trend(reps, flag.side, PUSH) == flag.push
        assert flag.swing.confidence == REP_CONFIDENCE
    reps = result.reps
    for side in ("left", "right"):
        x, y = rep_points(reps, side, PUSH)
        np.testing.assert_array_equal(x, np.arange(1, 9))
        assert y[0] == 0.0  # % change from the leg's first rep (the median of its top-speed steps)
        assert y[5] == pytest.approx(100 * (reps[5].summary(side)[PUSH] / reps[0].summary(side)[PUSH] - 1))
        line = rep_trend_line(reps, side, PUSH)
        trend = rep_trend(reps, side, PUSH)
        assert line.source == "meta_regression" and (line.x0, line.x1) == (3.0, 8.0)
        assert (line.slope, line.low, line.high, line.n) == (trend.slope, trend.low, trend.high, trend.n)
        assert line.y1 - line.y0 == pytest.approx(5 * trend.slope)
        assert line.low1 - line.low0 == pytest.approx(5 * trend.low)
        # drawn through the mean of the points it covers
        assert (line.y0 + line.y1) / 2 == pytest.approx(np.mean(y[2:]))


def test_step_points_and_their_theil_sen_line():
    rows = [Step(side, 0.2 * i, swing_peak_rad_s=20.0 * (1 + 0.01 * i), push_force_bw=3.0)
            for i in range(10) for side in ("left", "right")]
    x, y = step_points(rows, "left", SWING, 20.0)
    np.testing.assert_array_equal(x, np.arange(1, 11))
    assert y == pytest.approx([1.0 * i for i in range(10)])
    line = step_trend_line(x, y)
    assert line.source == "theil_sen" and line.slope == pytest.approx(1.0) and (line.x0, line.x1) == (1.0, 10.0)
    assert step_trend_line(x[:2], y[:2]) is None


@given(values=st.lists(st.one_of(st.floats(0.0, 40.0), st.just(float("nan")), st.sampled_from([20.0, 20.5])),
                       max_size=14))
def test_the_phase_split_smoothing_is_nanmedian_of_each_window(values):
    """Top speed is found on each swing peak's median with its neighbours: in one vectorised pass,
    equal to ``numpy.nanmedian`` of each window (NaN where a window has no finite value)."""
    import warnings

    from gaitmon.analysis.reps import _running_median3

    v = np.array(values, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        expected = [np.nanmedian(v[max(0, i - 1):i + 2]) for i in range(len(v))]
    np.testing.assert_array_equal(_running_median3(v), np.array(expected, dtype=float))


def test_a_trend_in_words_never_says_minus_zero():
    """A bound just below zero keeps its sign with a second decimal; one at zero reads 0.0."""
    assert Trend(-0.04, -0.046, 0.61, 6, 0.97).describe("rep") == "-0.04 %/rep, 97 % CI -0.05 to +0.6"
    assert Trend(0.001, -0.004, 0.0, 6).describe("rep") == "0.0 %/rep, 90 % CI 0.0 to 0.0"
    assert Trend(-0.05, -1.25, -0.051, 6).describe("session") == "-0.1 %/session, 90 % CI -1.2 to -0.1"
