"""The compiled kernel and its pure-Python twin are the same algorithm."""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

import gaitmon.core as core
from gaitmon.core import DetectorParams, StepDetector, TwinKernel
from gaitmon.core._params import butterworth_biquad
from gaitmon.stream.orientation import _project
from gaitmon.stream.pipeline import recording_axis
from tests.conftest import simulated

compiled = pytest.mark.skipif(core.Kernel is TwinKernel, reason=f"compiled core not loaded ({core.BACKEND})")


def test_compiled_core_is_loaded_in_an_installed_checkout():
    if os.environ.get("GAITMON_PURE_PYTHON"):
        pytest.skip("pure-Python twin forced by GAITMON_PURE_PYTHON")
    assert core.BACKEND == "compiled", "the Cython extension did not build or import"


def _run(kernel, params, t, x, axis, block=None):
    """Events, and the (ω, |a|) the kernel projected, feeding ``block`` samples at a time."""
    detector = StepDetector("left", params, kernel=kernel)
    events, omega, acc = [], np.empty(len(t)), np.empty(len(t))
    step = block or len(t)
    for lo in range(0, len(t), step):
        hi = lo + step
        events += detector.feed(t[lo:hi], x[lo:hi], axis, omega[lo:hi], acc[lo:hi])
    return events, omega, acc


def _same(fast, twin, t, x, axis):
    """Same events, and both kernels projected exactly as numpy does (bit for bit)."""
    assert fast[0] == twin[0]
    _, omega, acc = _project(t, x, np.asarray(axis, dtype=np.float64))
    for got in (fast, twin):
        np.testing.assert_array_equal(got[1], omega)
        np.testing.assert_array_equal(got[2], acc)


@compiled
@pytest.mark.parametrize("rate", [104.0, 200.0, 1000.0])
@pytest.mark.parametrize("placement", ["shank", "foot"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_equals_twin_on_simulated_session(rate, placement, dtype):
    session = simulated("balanced", seed=3, rate=rate, n_reps=2)
    t, x = session.samples["left"]
    x = x.astype(dtype)
    axis = recording_axis(x, placement)
    params = DetectorParams(sample_rate_hz=rate, placement=placement)
    twin = _run(TwinKernel, params, t, x, axis, block=997)
    fast = _run(core.Kernel, params, t, x, axis)
    assert len(twin[0]) > 20
    _same(fast, twin, t, x, axis)


@compiled
def test_compiled_equals_twin_on_noise_gaps_and_extremes():
    rng = np.random.default_rng(7)
    n = 20000
    t = np.cumsum(rng.choice([0.002, 0.002, 0.002, 0.004, 0.3], size=n, p=[0.6, 0.3, 0.05, 0.049, 0.001]))
    x = np.empty((n, 6))
    x[:, :3] = rng.standard_normal((n, 3)) * 30 + 9.81
    x[:, 3:] = rng.standard_normal((n, 3)).cumsum(axis=0) * 0.5 % 40 - 15
    axis = rng.standard_normal(3)
    axis /= np.linalg.norm(axis)
    params = DetectorParams(sample_rate_hz=500.0)
    fast, twin = _run(core.Kernel, params, t, x, axis), _run(TwinKernel, params, t, x, axis, block=123)
    assert len(fast[0]) > 20
    _same(fast, twin, t, x, axis)


@compiled
def test_compiled_equals_twin_on_real_running(running_dataset):
    """Force-plate running (virtual shank IMU, ω = −gz in its frame): same events, any chunking."""
    from gaitmon.io import read_imu_csv

    axis = (0.0, 0.0, -1.0)
    for path in sorted(running_dataset.glob("*_imu.csv"))[::3]:
        for side, (t, x) in read_imu_csv(path).items():
            params = DetectorParams(sample_rate_hz=float(1.0 / np.median(np.diff(t))))
            fast = _run(core.Kernel, params, t, x, axis)
            assert len(fast[0]) >= 15
            _same(fast, _run(TwinKernel, params, t, x, axis, block=37), t, x, axis)


@pytest.mark.parametrize("kernel", [core.Kernel, TwinKernel])
def test_block_shapes_are_checked(kernel):
    detector = StepDetector("left", DetectorParams(sample_rate_hz=200.0), kernel=kernel)
    with pytest.raises(ValueError):
        detector.feed(np.zeros(3), np.zeros((3, 5)), (1.0, 0.0, 0.0))
    with pytest.raises(ValueError):
        detector.feed(np.zeros(3), np.zeros((2, 6)), (1.0, 0.0, 0.0))
    with pytest.raises(ValueError):
        detector.feed(np.zeros(3), np.zeros((3, 6)), (1.0, 0.0, 0.0), omega=np.empty(2))
    assert detector.feed(np.zeros(0), np.zeros((0, 6)), (1.0, 0.0, 0.0)) == []


def test_reset_forgets_everything():
    session = simulated("balanced", seed=3, rate=200.0, n_reps=2)
    t, x = session.samples["right"]
    axis = recording_axis(x)
    detector = StepDetector("right", DetectorParams(sample_rate_hz=200.0))
    first = detector.feed(t, x, axis)
    detector.reset()
    assert detector.feed(t, x, axis) == first


@compiled
def test_the_compiled_loop_releases_the_gil():
    """While a thread is inside the kernel's loop, another thread runs Python.

    With a switch interval far longer than the test, the GIL only changes hands when its holder
    gives it up. The worker holds it until the kernel's loop starts; if the loop released nothing,
    the worker would also record that it finished before the main thread could record anything.
    A wake-up slower than the whole loop can hide the release, so a few tries are allowed; a loop
    holding the GIL can never pass.
    """
    n = 1_000_000
    t = np.arange(n) / 1000.0
    x = np.zeros((n, 6), dtype=np.float32)
    omega, acc = np.empty(n), np.empty(n)
    interval = sys.getswitchinterval()
    order: list[str] = []
    try:
        sys.setswitchinterval(1000.0)
        for _ in range(10):
            order.clear()
            kernel = core.Kernel(*DetectorParams(sample_rate_hz=1000.0).kernel_args())

            def work():
                kernel.feed(t, x, (1.0, 0.0, 0.0), omega, acc)
                order.append("worker")

            worker = threading.Thread(target=work)
            worker.start()
            order.append("main")
            worker.join()
            if order == ["main", "worker"]:
                break
    finally:
        sys.setswitchinterval(interval)
    assert order == ["main", "worker"]


@settings(max_examples=300, deadline=None)
@given(fs=st.floats(10.0, 5000.0), fraction=st.floats(1e-4, 0.49))
def test_the_smoothing_biquad_is_scipys_butterworth(fs, fraction):
    """The written-out design is ``scipy.signal.butter(2, fc, fs=fs)`` to within a few ulps."""
    b, a = butterworth_biquad(fraction * fs, fs)
    b_ref, a_ref = signal.butter(2, fraction * fs, btype="low", fs=fs)
    np.testing.assert_allclose(b, b_ref, rtol=1e-13, atol=0)
    np.testing.assert_allclose(a, a_ref, rtol=1e-13, atol=1e-15)  # a[1] passes through 0 at fs/4


@pytest.mark.parametrize("cutoff", [0.0, -1.0, 500.0, 800.0, float("nan")])
def test_the_smoothing_biquad_refuses_a_cutoff_outside_the_band(cutoff):
    with pytest.raises(ValueError, match="cut-off"):
        butterworth_biquad(cutoff, 1000.0)
