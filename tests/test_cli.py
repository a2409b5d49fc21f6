"""The command line, as a user meets it: real processes, real files."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from gaitmon.io import read_imu_csv
from gaitmon.sim import write_session
from tests.conftest import simulated


def gaitmon(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gaitmon", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture(scope="module")
def session_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("session")
    write_session(simulated("balanced", seed=4, rate=500.0, n_reps=2), folder)
    return folder


def test_version_says_which_core_is_loaded():
    result = gaitmon("--version")
    assert result.returncode == 0
    assert "event core:" in result.stdout


def test_help_lists_subcommands():
    result = gaitmon("--help")
    assert result.returncode == 0
    for command in ("analyze", "simulate", "demo", "accuracy"):
        assert command in result.stdout


def test_simulate_then_analyze(session_dir, tmp_path):
    result = gaitmon("analyze", str(session_dir / "imu.csv"), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "out" / "events.csv") as f:
        events = list(csv.DictReader(f))
    with open(tmp_path / "out" / "steps.csv") as f:
        steps = list(csv.DictReader(f))
    with open(session_dir / "truth_steps.csv") as f:
        truth_steps = list(csv.DictReader(f))
    assert {e["event"] for e in events} == {"TO", "MSW", "IC"}
    assert {"t_s", "side", "event"} <= set(events[0])
    for column in ("side", "ic_s", "to_s", "contact_s", "flight_s", "step_s", "swing_peak_rad_s", "push_force_bw"):
        assert column in steps[0]
    assert abs(len(steps) - len(truth_steps)) <= 2
    assert "steps" in result.stdout
    with open(tmp_path / "out" / "reps.csv") as f:
        reps = list(csv.DictReader(f))
    with open(tmp_path / "out" / "flags.csv") as f:
        assert {"scale", "rep", "side", "kind", "message"} <= set(csv.DictReader(f).fieldnames)
    assert {r["rep"] for r in reps} == {"1", "2"} and {r["side"] for r in reps} == {"left", "right", "both"}


def test_simulate_command_writes_the_analyze_layout(tmp_path):
    result = gaitmon("simulate", "--scenario", "swing_plateau", "--seed", "3", "--rate", "250",
                     "--reps", "1", "--realistic", "--out", str(tmp_path / "sim"))
    assert result.returncode == 0, result.stderr
    samples = read_imu_csv(tmp_path / "sim" / "imu.csv")
    assert set(samples) == {"left", "right"}


BAD_FILES = {
    "empty.csv": ("", "empty"),
    "no_gyro.csv": ("t_s,side,ax,ay,az,gx,gy\n0,left,1,2,3,4,5\n", "gz"),
    "not_a_number.csv": ("t_s,side,ax,ay,az,gx,gy,gz\n0,left,1,2,3,4,5,6\n0.01,left,1,2,abc,4,5,6\n", "line 3"),
    "backwards.csv": ("t_s,side,ax,ay,az,gx,gy,gz\n0.02,left,1,2,3,4,5,6\n0.01,left,1,2,3,4,5,6\n", "line 3"),
    "bad_side.csv": ("t_s,side,ax,ay,az,gx,gy,gz\n0,middle,1,2,3,4,5,6\n", "middle"),
    "truncated.csv": ("t_s,side,ax,ay,az,gx,gy,gz\n0,left,1,2,3,4,5,6\n0.01,left,1,2,3", "line 3"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_input_is_one_clear_line_and_exit_2(name, tmp_path):
    text, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    result = gaitmon("analyze", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0] and expected in lines[0], lines[0]


def test_missing_file(tmp_path):
    result = gaitmon("analyze", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "nope.csv" in result.stderr and "Traceback" not in result.stderr


def test_unwritable_output_folder(session_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = gaitmon("analyze", str(session_dir / "imu.csv"), "--out", str(blocker / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_accuracy_needs_a_source():
    result = gaitmon("accuracy")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_real_dataset_through_the_cli(foot_dataset, tmp_path):
    result = gaitmon("analyze", str(foot_dataset / "S01_T4_imu.csv"), "--placement", "foot", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "steps.csv").exists()


def test_demo_without_a_display_runs_headless_and_paints_the_dashboard(tmp_path, monkeypatch):
    """No DISPLAY: the demo streams the emulated sensors on a virtual clock, records, prints the
    summary and writes dashboard.png."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "demo"
    result = gaitmon("demo", "--reps", "6", "--rate", "500", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Qt:" not in result.stderr
    assert "6 reps" in result.stdout and "FLAG" in result.stdout
    assert "dashboard picture" in result.stdout
    picture = out / "dashboard.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 50_000
    (session,) = out.glob("Demo-A_*")
    for name in ("session.json", "journal.gmj", "steps.csv", "reps.csv", "flags.csv", "report.html"):
        assert (session / name).exists(), name
    replayed = gaitmon("replay", str(session), "--headless", "--out", str(tmp_path / "replayed"))
    assert replayed.returncode == 0, replayed.stderr
    assert (tmp_path / "replayed" / "steps.csv").read_text() == (session / "steps.csv").read_text()
