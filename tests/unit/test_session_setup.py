"""Session set-up without a window: the knee-lift movement of the simulator, the emulated sensors
performing it, the verdict of the leg check, and scans and checks through the real bleak path."""

from __future__ import annotations

import time

import numpy as np
import pytest
from bleak.exc import BleakBluetoothNotAvailableReason

from gaitmon.engine.session_setup import (KNEE_LIFT_RAD_S, STANDING_LEG_FRACTION, SensorSetup, judge_knee_lift,
                                          sagittal_excursion, signal_bars)
from gaitmon.sim import realism
from gaitmon.sim.knee_lift import knee_lift
from gaitmon.sources.virtual import emulated_pair

RATE_HZ = 200.0


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("side", ["left", "right"])
def test_knee_lift_is_told_apart_in_any_mounting(side, seed):
    rng = np.random.default_rng(seed)
    mounting = {leg: realism.random_mounting(rng) for leg in ("left", "right")}
    samples = knee_lift(side, 416.0, mounting, noise_seed=seed)
    excursions = {leg: sagittal_excursion(x[:, 3:]) for leg, x in samples.items()}
    other = "right" if side == "left" else "left"
    assert 3.0 < excursions[side] < 4.0  # 70° in 1.1 s: peak 3.5 rad/s (+ noise)
    assert excursions[other] < 0.2  # still, only the gyro's noise
    check = judge_knee_lift(side, excursions)
    assert check.confirmed and not check.swapped and check.lifted == side
    swapped = judge_knee_lift(other, excursions)
    assert swapped.swapped and swapped.lifted == side and "other way round" in swapped.text


def test_knee_lift_gravity_and_shape():
    x = knee_lift("left", 1000.0, noise_seed=None)
    still, lifting = x["right"], x["left"]
    assert np.allclose(still[:, :3], [9.80665, 0.0, 0.0], atol=1e-5) and not still[:, 3:].any()
    omega = -lifting[:, 5]  # canonical frame: sagittal ω = −g_z
    assert omega[len(omega) // 4] < -3.4 and omega[3 * len(omega) // 4] > 3.4  # back, then forward again
    assert abs(np.trapezoid(omega, dx=1e-3)) < 1e-3  # the shank ends where it started


def test_verdicts_when_the_check_cannot_tell():
    none = judge_knee_lift("left", {"left": 0.4, "right": 0.3})
    assert none.lifted is None and "No knee lift seen" in none.text
    both = judge_knee_lift("left", {"left": 3.0, "right": STANDING_LEG_FRACTION * 3.0 + 0.1})
    assert both.lifted is None and "Both sensors turned" in both.text
    alone = judge_knee_lift("left", {"left": KNEE_LIFT_RAD_S - 0.1})
    assert alone.lifted is None and "not on the left leg" in alone.text
    assert judge_knee_lift("right", {"right": KNEE_LIFT_RAD_S}).confirmed
    assert "gaitmon-L 172 °/s" in judge_knee_lift("left", {"left": 3.0}).readings({"left": "gaitmon-L"})


def test_signal_bars():
    assert [signal_bars(r) for r in (-40, -60, -61, -70, -75, -80, -81, -99)] == [4, 4, 3, 3, 2, 2, 1, 1]


def test_an_emulated_sensor_performs_a_movement_in_place_of_its_session():
    pair = emulated_pair("gaitmon_diy", "balanced", seed=0, rate_hz=RATE_HZ, n_reps=1)
    device = pair.devices["left"]
    rows = np.arange(60, dtype=np.float64).reshape(10, 6)
    first = device.sample_index_at(2.0)
    assert device.perform(rows, 2.0) == first
    assert float(device.sample_time(first)) >= 2.0 > float(device.sample_time(first - 1))
    x = device.samples(first - 3, first + 13)
    assert np.array_equal(x[3:13], rows)
    assert np.array_equal(x[:3], device.x[first - 3:first]) and np.array_equal(x[13:], device.x[first + 10:first + 13])
    device.samples(first + 10, first + 11)  # past it: the movement is forgotten
    assert np.array_equal(device.samples(first, first + 10), device.x[first:first + 10])


def _wait(watch, phases, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while watch.progress.phase not in phases:
        assert time.monotonic() < deadline, watch.progress
        time.sleep(0.02)
    return watch.progress


def test_scan_and_leg_check_through_bleak_on_emulated_sensors():
    pair = emulated_pair("polar_pmd", "balanced", seed=2, rate_hz=52.0, initial_standing_s=60.0, n_reps=1)
    setup = SensorSetup(pair.backends, rate_hz=52.0, lift_timeout_s=2.5)
    try:
        scan = _wait(setup.scan(0.5), ("done", "failed"))
        assert [(s.family, s.address, s.battery_pct) for s in scan.sensors] == [
            ("polar_pmd", pair.addresses["left"], 87), ("polar_pmd", pair.addresses["right"], 87)]
        # Only the right leg's sensor is checked, but the athlete lifts the left knee: no lift seen.
        watch = setup.check_legs({"right": pair.addresses["right"]}, "right")
        _wait(watch, ("lift", "failed"))
        pair.lift_knee("left")
        progress = _wait(watch, ("done", "failed"))
        assert progress.result is not None and progress.result.lifted is None, progress
        assert progress.battery == {"right": 87}
        # Both: the right knee lifts, the sensor on the right shank turns.
        watch = setup.check_legs({"left": pair.addresses["left"], "right": pair.addresses["right"]}, "right")
        _wait(watch, ("lift", "failed"))
        pair.lift_knee("right")
        result = _wait(watch, ("done", "failed")).result
        assert result is not None and result.confirmed, result
    finally:
        setup.close()
    assert all(device._link is None for device in pair.devices.values())  # every link closed


def test_scan_without_bluetooth_says_why():
    pair = emulated_pair("gaitmon_diy", "balanced", seed=0, rate_hz=RATE_HZ, n_reps=1)
    pair.air.unavailable = BleakBluetoothNotAvailableReason.POWERED_OFF
    setup = SensorSetup(pair.backends)
    try:
        progress = _wait(setup.scan(0.2), ("done", "failed"))
    finally:
        setup.close()
    assert progress.phase == "failed" and "adapter is off" in progress.error


def test_closing_during_a_check_closes_the_links():
    pair = emulated_pair("gaitmon_diy", "balanced", seed=0, rate_hz=RATE_HZ, n_reps=1, initial_standing_s=30.0)
    setup = SensorSetup(pair.backends, rate_hz=RATE_HZ)
    watch = setup.check_legs(pair.addresses, "left")
    _wait(watch, ("lift", "failed"))
    setup.close()
    assert all(device._link is None for device in pair.devices.values())


def test_live_without_sensors_or_display_says_what_to_do(monkeypatch):
    from gaitmon.cli import main

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # no window can open
    with pytest.raises(SystemExit, match="give --left and/or --right.*with a display"):
        main(["live"])
