"""Any split of the stream into blocks gives exactly the events of feeding it in one piece."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitmon.core import DetectorParams, StepDetector, TwinKernel
from gaitmon.stream.orientation import SagittalProjector
from gaitmon.stream.pipeline import LegPipeline, recording_axis
from tests.conftest import simulated

RATE = 200.0


def _stream():
    session = simulated("balanced", seed=11, rate=RATE, n_reps=1, recovery_s=6.0)
    return session.samples["left"]


def _split(n: int, cuts: list[int]) -> list[tuple[int, int]]:
    edges = sorted({0, n, *(c % (n + 1) for c in cuts)})
    return list(zip(edges[:-1], edges[1:]))


def _feed_blocks(feed, arrays, blocks):
    events = []
    for lo, hi in blocks:
        events += feed(*(a[lo:hi] for a in arrays))
    return events


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=0, max_value=10**7), max_size=60))
def test_pipeline_events_do_not_depend_on_block_boundaries(cuts):
    t, x = _stream()
    whole = LegPipeline("left", DetectorParams(sample_rate_hz=RATE)).feed(t, x)
    assert len(whole) > 30
    leg = LegPipeline("left", DetectorParams(sample_rate_hz=RATE))
    projected = []

    def feed(tb, xb):
        events = leg.feed(tb, xb)
        projected.append(leg.projected)
        return events

    assert _feed_blocks(feed, (t, x), _split(len(t), cuts)) == whole
    # what the kernel projected is the numpy projection of the streamed axis, bit for bit
    for got, expected in zip((np.concatenate(p) for p in zip(*projected)), SagittalProjector().feed(t, x)):
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=10, deadline=None)
@given(start=st.integers(min_value=0, max_value=3000), length=st.integers(min_value=200, max_value=1500))
def test_one_sample_blocks_match_whole_stream(start, length):
    """Feeding single samples (as a 1-sample-per-notification sensor would) changes nothing."""
    t, x = _stream()
    t, x = t[start:], x[start:]
    axis = recording_axis(x)
    params = DetectorParams(sample_rate_hz=RATE)
    expected = StepDetector("left", params, kernel=TwinKernel).feed(t, x, axis)
    stepwise = StepDetector("left", params)
    singles = [(i, i + 1) for i in range(min(length, len(t)))]
    got = _feed_blocks(lambda tb, xb: stepwise.feed(tb, xb, axis), (t, x), singles + [(singles[-1][1], len(t))])
    assert got == expected


def test_empty_blocks_are_harmless():
    t, x = _stream()
    leg = LegPipeline("left", DetectorParams(sample_rate_hz=RATE))
    events = []
    for lo in range(0, len(t), 500):
        events += leg.feed(t[lo:lo], x[lo:lo])
        events += leg.feed(t[lo:lo + 500], x[lo:lo + 500])
    assert events == LegPipeline("left", DetectorParams(sample_rate_hz=RATE)).feed(t, x)
    assert np.all(np.diff([e.t for e in events if e.kind == "IC"]) > 0)
