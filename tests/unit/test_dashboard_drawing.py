"""The dashboard's Qt-free drawing arithmetic: round ticks and peak decimation per pixel column."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.dashboard.drawing import peak_decimate
from gaitmon.report.svg import nice_ticks


@given(lo=st.floats(-1e4, 1e4), span=st.floats(1e-3, 1e4), most=st.integers(2, 10),
       least=st.sampled_from([0.0, 1.0]))
def test_ticks_are_round_inside_the_range_and_few(lo, span, most, least):
    hi = lo + span
    ticks = nice_ticks(lo, hi, most=most, least_step=least)
    assert len(ticks) <= most + 1
    assert np.all(ticks >= lo - 1e-6 * span) and np.all(ticks <= hi + 1e-6 * span)
    if len(ticks) > 1:
        step = ticks[1] - ticks[0]
        assert step >= least and np.allclose(np.diff(ticks), step)
        mantissa = step / 10.0 ** np.floor(np.log10(step))
        assert min(abs(mantissa - m) for m in (1.0, 2.0, 2.5, 5.0, 10.0)) < 1e-6  # 1, 2, 2.5 or 5 × 10ⁿ
        assert not least or abs(step / least - round(step / least)) < 1e-9
        assert np.allclose(ticks / step, np.round(ticks / step))  # multiples of the step


def test_ticks_for_the_dashboard_ranges():
    assert nice_ticks(-5.0, 0.0).tolist() == [-5, -4, -3, -2, -1, 0]
    assert nice_ticks(-10.0, 30.0).tolist() == [-10, 0, 10, 20, 30]
    assert nice_ticks(0.0, 60.0, most=3).tolist() == [0, 20, 40, 60]
    assert nice_ticks(0.5, 20.5, least_step=1.0).tolist() == [5, 10, 15, 20]
    assert nice_ticks(0.5, 3.5, least_step=1.0).tolist() == [1, 2, 3]  # rep numbers: no half reps
    assert nice_ticks(0.5, 15.5, least_step=1.0).tolist() == [2, 4, 6, 8, 10, 12, 14]  # not 2.5, 5, 7.5, …
    assert nice_ticks(-80.0, 40.0, most=5).tolist() == [-75, -50, -25, 0, 25]  # not just -50, 0


RATE = 1000.0


def _trace(start: int, n: int, seed: int = 0):
    t = np.arange(start, start + n) / RATE
    y = np.random.default_rng(seed).normal(size=n).cumsum()
    return t, y


@given(start=st.integers(0, 100_000), n=st.integers(2, 6000), columns=st.integers(50, 1000))
@settings(max_examples=200, deadline=None)
def test_decimation_keeps_every_extreme_and_the_time_span(start, n, columns):
    t, y = _trace(start, n, seed=start)
    spike = n // 2
    y[spike] += 1e3
    td, yd, yd2 = peak_decimate(t, (y, -y), columns)
    run = n // columns
    assert len(td) == len(yd) == len(yd2) <= (2 * (n // run) + 2 * run if run >= 3 else n)
    assert td[0] == t[0] and td[-1] <= t[-1] and np.all(np.diff(td) >= 0)
    assert yd.max() == y.max() and yd.min() == y.min() and yd2.max() == -y.min()  # the spike stays
    if run < 3:
        assert np.array_equal(td, t) and np.array_equal(yd, y)  # nothing to gain: as given


@given(start=st.integers(0, 100_000), slide=st.integers(1, 500))
def test_decimation_runs_stay_put_as_the_window_slides(start, slide):
    """The same samples stay together from frame to frame: no shimmer of the peaks."""
    t, y = _trace(start, 5000 + slide)
    first = peak_decimate(t[:5000], (y[:5000],), 880)
    later = peak_decimate(t[slide:], (y[slide:],), 880)
    run = 5000 // 880
    inner = (first[0] >= t[slide] + run / RATE) & (first[0] <= t[4999] - run / RATE)
    points = dict(zip(zip(later[0].round(6), later[1]), [True] * len(later[0])))
    assert all((tt, yy) in points for tt, yy in zip(first[0][inner].round(6), first[1][inner]))


def test_decimation_breaks_the_line_where_a_whole_run_is_missing():
    t, y = _trace(0, 5000)
    y[1000:1100] = np.nan
    td, yd = peak_decimate(t, (y,), 500)
    missing = (td > 1.0 + 0.01) & (td < 1.1 - 0.01)
    assert missing.any() and np.isnan(yd[missing]).all()
    assert np.isfinite(yd[~((td >= 1.0 - 0.01) & (td <= 1.1))]).all()
