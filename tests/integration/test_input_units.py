"""Samples CSVs in other units: g and deg/s are read from the data (and said) or given, and give
the events of the same recording in m/s² and rad/s; data whose units cannot be told ask for them."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gaitmon.consts import STANDARD_GRAVITY
from gaitmon.engine.load import load
from gaitmon.errors import InputError
from gaitmon.io import read_imu_csv, write_imu_csv

DEG = math.pi / 180.0


def in_units(source: Path, target: Path, acc_factor: float, gyro_factor: float) -> Path:
    """``source`` (m/s², rad/s) rewritten with acceleration / ``acc_factor`` and angular velocity / ``gyro_factor``."""
    samples = read_imu_csv(source)
    write_imu_csv(target, {side: (t, np.column_stack([x[:, :3] / acc_factor, x[:, 3:] / gyro_factor]))
                           for side, (t, x) in samples.items()})
    return target


def assert_same_events(converted, si) -> None:
    """Same events in the same order, at the same samples: the CSV's 6 significant digits move an
    interpolated time by microseconds (10 µs is 0.15 % of the 6.7 ms sample interval at 150 Hz)."""
    assert len(converted) == len(si) > 0
    assert [(e.side, e.kind) for e in converted] == [(e.side, e.kind) for e in si]
    assert np.max(np.abs(np.array([e.t for e in converted]) - [e.t for e in si])) <= 1e-5
    np.testing.assert_allclose([e.value for e in converted], [e.value for e in si], rtol=1e-4, atol=1e-5)


def test_real_running_in_g_and_deg_s_gives_the_si_events(running_dataset, tmp_path):
    """Every running_mocap recording (treadmill, 2 to 5 m/s) rewritten in g and deg/s: the units
    are read from the data, and the events and steps are those of the recording in SI units."""
    recordings = sorted(running_dataset.glob("*_imu.csv"))
    assert len(recordings) == 8
    for source in recordings:
        si = load(source)
        converted = load(in_units(source, tmp_path / source.name, STANDARD_GRAVITY, DEG))
        assert converted.units.startswith("Units: acceleration in g (read from the data: median |a| "), converted.units
        assert "angular velocity in deg/s (read from the data: 99th percentile of |gyro| " in converted.units
        assert si.units.startswith("Units: acceleration in m/s² (read from the data")
        assert converted.units_converted and not si.units_converted and "converted" not in si.units
        assert_same_events(converted.result.events, si.result.events)
        assert len(converted.result.steps) == len(si.result.steps)


def test_a_real_walk_in_g_and_deg_s_gives_the_si_events(foot_dataset, tmp_path):
    """Walking (foot IMU): median |a| is near 1 g, the gyro slower than running; still told apart."""
    source = foot_dataset / "S01_T4_imu.csv"
    si = load(source, placement="foot")
    converted = load(in_units(source, tmp_path / source.name, STANDARD_GRAVITY, DEG), placement="foot")
    assert converted.units_converted and "acceleration in g" in converted.units and "in deg/s" in converted.units
    assert_same_events(converted.result.events, si.result.events)


def test_units_given_win_and_are_said(running_dataset, tmp_path):
    """g with rad/s, both given: the same events, and the output says they were given."""
    source = running_dataset / "RBDS001_3p5ms_imu.csv"
    path = in_units(source, tmp_path / "in_g.csv", STANDARD_GRAVITY, 1.0)
    given = load(path, acc_unit="g", gyro_unit="rad/s")
    assert given.units == ("Units: acceleration in g (given by --acc-unit), angular velocity in rad/s (given by "
                           "--gyro-unit); converted to m/s² and rad/s")
    assert_same_events(given.result.events, load(source).result.events)


@pytest.mark.parametrize("acc_factor, gyro_factor, asked", [
    (1 / 0.235, 1.0, "--acc-unit m/s2|g"),  # median |a| ≈ 5.5: neither 1-3 g nor ≥ 9.8 m/s²
    (1.0, 1 / 4.2, "--gyro-unit rad/s|deg/s"),  # 99th percentile of |gyro| ≈ 42: beyond 35 rad/s, too slow for deg/s
])
def test_units_that_cannot_be_told_ask_for_the_option(running_dataset, tmp_path, acc_factor, gyro_factor, asked):
    source = running_dataset / "RBDS001_3p5ms_imu.csv"
    path = in_units(source, tmp_path / "unknown.csv", acc_factor, gyro_factor)
    with pytest.raises(InputError, match=f"cannot tell the units of the .*: give {asked}"):
        load(path)
    result = subprocess.run([sys.executable, "-m", "gaitmon", "analyze", str(path), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert str(path) in line and asked in line, line
    option, unit = asked.split()[0], ("m/s2" if "acc" in asked else "rad/s")
    given = subprocess.run([sys.executable, "-m", "gaitmon", "analyze", str(path), "--out", str(tmp_path / "out"),
                            f"{option}={unit}"], capture_output=True, text=True, timeout=300)
    assert given.returncode == 0, given.stderr
    assert f"(given by {option})" in given.stdout.splitlines()[0]


def test_units_of_a_bids_dataset_cannot_be_given(tmp_path):
    """BIDS datasets and session folders are in SI units by definition: the options are refused."""
    (tmp_path / "dataset_description.json").write_text("{}")
    with pytest.raises(InputError, match="apply to a samples CSV only"):
        load(tmp_path, gyro_unit="deg/s")
