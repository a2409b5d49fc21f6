"""The figures the core must reach, on synthetic truth and on real labelled recordings."""

from __future__ import annotations

import numpy as np
import pytest

from gaitmon.accuracy import dataset_accuracy, simulated_accuracy


@pytest.mark.slow
@pytest.mark.parametrize("rate", [200.0, 500.0, 1000.0])
def test_simulator_all_realism_switches(rate):
    report = simulated_accuracy(rates=(rate,), seeds=(0, 1), n_reps=3)
    pooled = report.pooled()
    for kind in ("TO", "IC"):
        k = pooled["kinds"][kind]
        assert k["recall"] >= 0.995, (kind, k)
        assert k["precision"] >= 0.995, (kind, k)
        assert np.mean(report.within[kind]) >= 0.95, kind
    contact_mae = np.mean(np.abs(report.contact_errors_s))
    assert contact_mae <= 0.005
    assert len(report.contact_errors_s) > 1000


def test_real_foot_walking_dataset(foot_dataset):
    report = dataset_accuracy(foot_dataset, placement="foot")
    pooled = report.pooled()
    assert pooled["combined"]["f1"] >= 0.97
    for kind in ("TO", "IC"):
        assert pooled["kinds"][kind]["agreement"]["mae"] <= 0.030, kind


@pytest.mark.parametrize("rate", [200.0, 1000.0])
def test_initial_contact_confirmed_within_40_ms(rate):
    from gaitmon.accuracy import detection_latency
    from gaitmon.core import DetectorParams
    from gaitmon.orientation import SagittalProjector
    from tests.conftest import simulated

    session = simulated("balanced", seed=6, rate=rate, n_reps=2)
    t, w, a = SagittalProjector().feed(*session.samples["right"])
    delays = detection_latency(t, w, a, DetectorParams(sample_rate_hz=rate))
    assert len(delays["IC"]) > 50
    assert delays["IC"].max() <= 0.040
    assert np.all(delays["TO"] >= 0) and np.all(delays["MSW"] >= 0)
    assert delays["TO"].max() <= 0.6  # emitted with mid-swing, within the same stride


@pytest.mark.slow
def test_flag_suite_on_simulated_sessions():
    from gaitmon.accuracy import flag_suite

    report = flag_suite(rates=(500.0,), seeds=range(3))
    figures = report.figures()
    assert figures["swing_plateau_sensitivity"] == 1.0
    assert figures["push_plateau_sensitivity"] == 1.0
    assert figures["false_alarm"] == 0.0
    for scenario in ("swing_plateau", "push_plateau"):
        row = report.rows[scenario]
        assert all(first is not None and first > plateau for first, plateau in zip(row["first_raised"], row["plateau_from"]))
        assert row["swing_plateau" if scenario == "push_plateau" else "push_plateau"] == 0  # never the wrong kind
    assert "sensitivity" in report.text()
