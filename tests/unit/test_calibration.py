"""Per-athlete calibration of step durations (gaitmon.analysis.calibration): the arithmetic, NaN, bands."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gaitmon.analysis import segment_reps, strength_balance
from gaitmon.analysis.calibration import (Calibration, CalibrationEntry, apply_calibration, calibrate_steps,
                                          calibrated_step_rows, phase_bands)
from gaitmon.analysis.result import AnalysisResult
from gaitmon.analysis.steps import Step, spring_mass_force_bw
from tests.conftest import simulated

NAN = math.nan

CALIBRATION = Calibration("Ana", "2025-03-01T10:00:00.000000+00:00", "OptoJump run1.csv", (
    CalibrationEntry("contact", "all", 0.008, 0.012, 120),
    CalibrationEntry("flight", "all", -0.005, 0.011, 118),
    CalibrationEntry("contact", "top_speed", 0.004, 0.010, 40),
))


def _step(**values) -> Step:
    base = dict(side="left", ic_s=1.0, to_s=1.1, contact_s=0.1, flight_s=0.12, step_s=0.22, step_hz=1 / 0.22,
                swing_s=0.3, swing_peak_rad_s=15.0, push_force_bw=spring_mass_force_bw(0.1, 0.12))
    return Step(**{**base, **values})


def test_durations_are_corrected_events_and_swing_kept_push_recomputed():
    (got,) = apply_calibration([_step()], CALIBRATION)
    assert got.contact_s == pytest.approx(0.092) and got.flight_s == pytest.approx(0.125)
    assert got.step_s == pytest.approx(0.22 - 0.008 + 0.005) == pytest.approx(got.contact_s + got.flight_s)
    assert got.step_hz == pytest.approx(1 / got.step_s)
    assert got.push_force_bw == pytest.approx((math.pi / 2) * (0.125 / 0.092 + 1))
    assert (got.ic_s, got.to_s, got.swing_s, got.swing_peak_rad_s, got.side) == (1.0, 1.1, 0.3, 15.0, "left")


def test_nan_stays_nan_and_known_values_are_still_corrected():
    (got,) = apply_calibration([_step(contact_s=NAN, flight_s=NAN, to_s=NAN, push_force_bw=NAN)], CALIBRATION)
    assert math.isnan(got.contact_s) and math.isnan(got.flight_s) and math.isnan(got.push_force_bw)
    assert math.isnan(got.to_s)
    assert got.step_s == pytest.approx(0.22 - 0.003)  # the step time is known without a toe-off
    (empty,) = apply_calibration([_step(step_s=NAN, step_hz=NAN, flight_s=NAN)], CALIBRATION)
    assert math.isnan(empty.step_s) and math.isnan(empty.step_hz) and math.isnan(empty.push_force_bw)
    assert empty.contact_s == pytest.approx(0.092)


def test_a_band_uses_its_own_entry_and_falls_back_to_all_then_to_no_correction():
    assert CALIBRATION.bias("contact", "top_speed") == 0.004
    assert CALIBRATION.bias("flight", "top_speed") == -0.005  # no top-speed flight entry: the "all" one
    assert CALIBRATION.bias("contact", "acceleration") == 0.008
    contact_only = Calibration("Ana", "2025-03-01T10:00:00+00:00", "x",
                               (CalibrationEntry("contact", "all", 0.01, NAN, 12),))
    assert contact_only.bias("flight") == 0.0  # an uncalibrated metric stays as measured
    bands = {1.0: "top_speed", 2.0: "deceleration", 3.0: "acceleration"}
    top, decel, accel = apply_calibration([_step(ic_s=t) for t in bands], CALIBRATION, lambda s: bands[s.ic_s])
    assert top.contact_s == pytest.approx(0.096) and top.flight_s == pytest.approx(0.125)
    assert decel.contact_s == pytest.approx(0.092) and accel.contact_s == pytest.approx(0.092)


def test_entries_and_calibrations_are_checked():
    with pytest.raises(ValueError, match="metric"):
        CalibrationEntry("step", "all", 0.01, 0.01, 10)
    with pytest.raises(ValueError, match="band"):
        CalibrationEntry("contact", "deceleration", 0.01, 0.01, 10)
    with pytest.raises(ValueError, match="not a number"):
        CalibrationEntry("contact", "all", NAN, 0.01, 10)
    entry = CalibrationEntry("contact", "all", 0.01, 0.01, 10)
    with pytest.raises(ValueError, match="one entry per metric and band"):
        Calibration("Ana", "2025-03-01", "x", (entry, entry))
    with pytest.raises(ValueError, match="at least one entry"):
        Calibration("Ana", "2025-03-01", "x", ())


def test_the_sentence_gives_date_n_source_and_the_corrections_added():
    assert CALIBRATION.describe() == (
        "contact and flight times corrected by the calibration of 2025-03-01 (n = 120, OptoJump run1.csv): "
        "contact \u22128.0 ms, flight +5.0 ms (top speed: contact \u22124.0 ms)")


def _session_steps() -> list[Step]:
    return [Step.from_row(row) for row in simulated("balanced", seed=0, rate=200.0, n_reps=2).steps]


def test_bands_come_from_the_raw_steps_reps():
    raw = _session_steps()
    reps = segment_reps(raw)
    band = phase_bands(reps)
    corrected = calibrate_steps(raw, CALIBRATION)
    assert len(corrected) == len(raw)
    top = {id(s) for rep in reps for s in rep.top_speed}
    assert top and any(band(s) == "acceleration" for s in raw)
    for before, after in zip(raw, corrected):
        if math.isfinite(before.contact_s):
            bias = 0.004 if id(before) in top else 0.008
            assert after.contact_s == pytest.approx(before.contact_s - bias)


def test_a_calibrated_result_keeps_the_raw_steps_and_recomputes_the_balance():
    raw = _session_steps()
    result = AnalysisResult(Path("x.csv"), "shank", ["left", "right"], [], raw, strength_balance(raw))
    calibrated = result.calibrated(CALIBRATION)
    assert calibrated.raw_steps == raw and calibrated.detected_steps == raw and result.detected_steps == raw
    assert repr(calibrated.steps) == repr(calibrate_steps(raw, CALIBRATION))  # NaN fields: compared as text
    assert len(calibrated.balance.reps) == len(result.balance.reps) == 2
    assert calibrated.balance.rep_rows()[0]["push_force_bw"] != result.balance.rep_rows()[0]["push_force_bw"]
    assert CALIBRATION.describe() in calibrated.summary() and "calibration" not in result.summary()
    with pytest.raises(ValueError, match="calibrated already"):
        calibrated.calibrated(CALIBRATION)
    row = calibrated_step_rows(calibrated.steps, raw, CALIBRATION)[0]
    assert row["contact_raw_s"] == raw[0].contact_s and row["push_force_raw_bw"] == raw[0].push_force_bw
    assert row["calibration"] == CALIBRATION.created_at
