"""`gaitmon validate` on real force-plate data (running_mocap): the same figures as `gaitmon accuracy`,
and an automatic alignment that is right whenever it answers."""

from __future__ import annotations

import pytest

from gaitmon.engine.validate import load_gaitmon, validate
from gaitmon.validation.accuracy import dataset_accuracy
from gaitmon.validation.alignment import AlignmentError, align
from gaitmon.validation.reference import read_reference


def _pairs(folder):
    return [(imu, imu.with_name(imu.name.replace("_imu.csv", "_events.csv"))) for imu in sorted(folder.glob("*_imu.csv"))]


def test_same_clock_validation_reports_the_accuracy_figures(running_dataset):
    validation = validate(_pairs(running_dataset), placement="shank", same_clock=True)
    accuracy = dataset_accuracy(running_dataset, placement="shank")
    pooled = accuracy.pooled()
    rows = {(r["metric"], r["phase"]): r for r in validation.summary}
    for kind in ("IC", "TO"):
        row, ref = rows[(kind.lower(), "all")], pooled["kinds"][kind]
        assert row["n_matched"] == ref["n_matched"]
        assert row["missed"] == ref["n_reference"] - ref["n_matched"]
        assert row["extra"] == ref["n_detected"] - ref["n_matched"]
        for key in ("bias", "mae", "loa_low", "loa_high"):
            assert row[key] == pytest.approx(ref["agreement"][key] * 1e3, abs=1e-9)
    contact, ref = rows[("contact", "all")], accuracy.contact_agreement()
    assert contact["n_matched"] == ref["n_matched"]
    assert contact["bias"] == pytest.approx(ref["bias"] * 1e3, abs=1e-9)
    assert contact["loa_high"] == pytest.approx(ref["loa_high"] * 1e3, abs=1e-9)


def test_contact_sequence_alignment_is_right_whenever_it_answers(running_dataset):
    """The force plates share the IMU's clock, so the true offset is gaitmon's IC bias (a few ms).
    Steady treadmill running is nearly periodic: the alignment may refuse, but must never be wrong."""
    answered = 0
    for imu, events in _pairs(running_dataset):
        reference = read_reference(events)
        gaitmon = load_gaitmon(imu, placement="shank")
        for part in (reference.steps, reference.steps[10:40]):
            try:
                found = align(part, gaitmon.steps, 0.05)
            except AlignmentError as error:
                assert "ambiguous" in str(error) or "reference contacts" in str(error)
                continue
            answered += 1
            assert abs(found.offset_s) < 0.015, (imu.name, found.text())
    assert answered >= 4
