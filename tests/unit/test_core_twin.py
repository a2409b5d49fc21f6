"""The compiled kernel and its pure-Python twin are the same algorithm."""

from __future__ import annotations

import os

import numpy as np
import pytest

import gaitmon.core as core
from gaitmon.core import DetectorParams, StepDetector, TwinKernel
from gaitmon.stream.orientation import SagittalProjector
from tests.conftest import simulated

compiled = pytest.mark.skipif(core.Kernel is TwinKernel, reason=f"compiled core not loaded ({core.BACKEND})")


def test_compiled_core_is_loaded_in_an_installed_checkout():
    if os.environ.get("GAITMON_PURE_PYTHON"):
        pytest.skip("pure-Python twin forced by GAITMON_PURE_PYTHON")
    assert core.BACKEND == "compiled", "the Cython extension did not build or import"


def _projected(session, side):
    t, x = session.samples[side]
    return SagittalProjector().feed(t, x)


def _run(kernel, params, t, w, a, block=None):
    detector = StepDetector("left", params, kernel=kernel)
    if block is None:
        return detector.feed(t, w, a)
    events = []
    for start in range(0, len(t), block):
        events += detector.feed(t[start:start + block], w[start:start + block], a[start:start + block])
    return events


@compiled
@pytest.mark.parametrize("rate", [104.0, 200.0, 1000.0])
@pytest.mark.parametrize("placement", ["shank", "foot"])
def test_compiled_equals_twin_on_simulated_session(rate, placement):
    session = simulated("balanced", seed=3, rate=rate, n_reps=2)
    t, w, a = _projected(session, "left")
    params = DetectorParams(sample_rate_hz=rate, placement=placement)
    twin = _run(TwinKernel, params, t, w, a, block=997)
    fast = _run(core.Kernel, params, t, w, a)
    assert len(twin) > 20
    assert fast == twin


@compiled
def test_compiled_equals_twin_on_noise_gaps_and_extremes():
    rng = np.random.default_rng(7)
    n = 20000
    t = np.cumsum(rng.choice([0.002, 0.002, 0.002, 0.004, 0.3], size=n, p=[0.6, 0.3, 0.05, 0.049, 0.001]))
    w = rng.standard_normal(n).cumsum() * 0.5 % 40 - 15
    a = np.abs(rng.standard_normal(n) * 30 + 9.81)
    params = DetectorParams(sample_rate_hz=500.0)
    assert _run(core.Kernel, params, t, w, a) == _run(TwinKernel, params, t, w, a, block=123)


@compiled
def test_compiled_equals_twin_on_real_running(running_dataset):
    """Force-plate running (virtual shank IMU, ω = −gz in its frame): same events, any chunking."""
    from gaitmon.io import read_imu_csv

    for path in sorted(running_dataset.glob("*_imu.csv"))[::3]:
        for side, (t, x) in read_imu_csv(path).items():
            w, a = -x[:, 5], np.linalg.norm(x[:, :3], axis=1)
            params = DetectorParams(sample_rate_hz=float(1.0 / np.median(np.diff(t))))
            fast = _run(core.Kernel, params, t, w, a)
            assert len(fast) >= 15
            assert fast == _run(TwinKernel, params, t, w, a, block=37), (path.name, side)


def test_reset_forgets_everything():
    session = simulated("balanced", seed=3, rate=200.0, n_reps=2)
    t, w, a = _projected(session, "right")
    detector = StepDetector("right", DetectorParams(sample_rate_hz=200.0))
    first = detector.feed(t, w, a)
    detector.reset()
    assert detector.feed(t, w, a) == first
