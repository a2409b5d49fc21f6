"""The command line, as a user meets it: real processes, real files."""

from __future__ import annotations

import csv
import re
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
    assert "event core:" in result.stdout and "clock fit: " in result.stdout


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
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Units: acceleration in m/s² (read from the data: median |a| ")
    assert lines[1].startswith("imu.csv: 2 reps, ") and lines[2].startswith("  left leg: ")
    assert [line.split(":")[0] for line in lines if line.startswith("Rep ")] == ["Rep 1", "Rep 2"]
    assert "No flag: the strength-balance check across reps needs at least 4 reps (this session has 2)." in lines
    assert lines[-1] == f"Report: {tmp_path / 'out' / 'report.html'}"
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
    assert "Demo A: 6 reps" in result.stdout
    assert "Dashboard picture" in result.stdout
    picture = out / "dashboard.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 50_000
    (session,) = out.glob("Demo-A_*")
    for name in ("session.json", "journal.gmj", "steps.csv", "reps.csv", "flags.csv", "report.html"):
        assert (session / name).exists(), name
    assert_reads_like_a_summary_for_coaches(result.stdout, 6, session)
    replayed = gaitmon("replay", str(session), "--headless", "--out", str(tmp_path / "replayed"))
    assert replayed.returncode == 0, replayed.stderr
    assert (tmp_path / "replayed" / "steps.csv").read_text() == (session / "steps.csv").read_text()
    assert_reads_like_a_summary_for_coaches(replayed.stdout, 6, tmp_path / "replayed")


def assert_reads_like_a_summary_for_coaches(stdout: str, n_reps: int, out: Path) -> None:
    """The end of a session as a coach reads it: one line per rep (its flag, in plain words with the
    numbers, or its top-speed outputs), every output path on its own line, ``Report: …/report.html``
    the last of them, and no developer wording."""
    lines = stdout.splitlines()
    for rep in range(1, n_reps + 1):
        (line,) = [line for line in lines if line.startswith(f"Rep {rep}: ")]
        assert re.fullmatch(rf"Rep {rep}: no (new )?flag \(top speed: swing peak [\d.]+ rad/s, push [\d.]+ "
                            rf"× body weight, contact \d+ ms\)|Rep {rep}: (flag|note) — .+ \(.+ %/(rep|step), "
                            rf".+\)", line), line
    flagged = [line for line in lines if " flag — " in line]
    assert flagged and all(re.search(r"swing [+-][\d.]+ %/(rep|step)", line) and "push" in line for line in flagged)
    assert "not a diagnosis" in stdout
    for name in ("events.csv", "steps.csv", "reps.csv", "flags.csv"):
        assert f"  {out / name}" in lines, name
    (report,) = [line for line in lines if line.startswith("Report: ")]
    assert report == f"Report: {out / 'report.html'}" and (out / "report.html").exists()
    assert lines.index(report) > max(lines.index(f"  {out / name}") for name in ("events.csv", "flags.csv"))
    for developer_words in ("<live", "BLE path", "realism", "wrote "):
        assert developer_words not in stdout, developer_words
    assert max(len(line) for line in lines) < 250


def _recording(path: Path, seconds: float, acc: float = 9.81, gyro_amp: float = 0.0, rate: float = 100.0) -> Path:
    """Both legs: gravity along x (``acc``) and a 1 Hz rotation of ``gyro_amp`` about z."""
    import numpy as np

    from gaitmon.io import write_imu_csv

    t = np.arange(int(round(seconds * rate))) / rate
    x = np.zeros((len(t), 6))
    x[:, 0] = acc
    x[:, 1] = 0.1 * np.sin(2 * np.pi * 0.7 * t)
    x[:, 5] = gyro_amp * np.sin(2 * np.pi * t)
    write_imu_csv(path, {"left": (t, x), "right": (t + 0.001, x)})
    return path


NO_STEPS = {
    # name: (seconds, acc, gyro amplitude, what the one line must say)
    "short.csv": (1.5, 9.81, 0.0, "too short to analyse: 1.5 s"),
    "still.csv": (20.0, 9.81, 0.5, "too little motion: |gyro| never exceeds 1.5 rad/s"),
    "gentle.csv": (10.0, 9.81, 1.6, "no steps found (shank placement): left 10.0 s"),
}


@pytest.mark.parametrize("name", sorted(NO_STEPS))
def test_a_recording_without_steps_is_one_line_exit_2_and_no_tables(name, tmp_path):
    seconds, acc, gyro_amp, expected = NO_STEPS[name]
    path = _recording(tmp_path / name, seconds, acc, gyro_amp)
    out = tmp_path / "out"
    result = gaitmon("analyze", str(path), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"gaitmon: error: {path}: ") and expected in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize("acc, gyro_amp, units", [(1.0, 4.0, "acceleration in g (read from the data: median |a| 1"),
                                                   (9.81, 229.0, "angular velocity in deg/s (read from the data: "
                                                                 "99th percentile of |gyro| 229)")])
def test_a_recording_in_g_or_deg_s_is_converted_and_says_so(acc, gyro_amp, units, tmp_path):
    """What the former units check refused (g, deg/s) is read as such, converted, and said first."""
    path = _recording(tmp_path / "other_units.csv", 10.0, acc, gyro_amp)
    result = gaitmon("analyze", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("Units: ") and units in first and first.endswith("converted to m/s² and rad/s"), first


@pytest.mark.parametrize("acc, gyro_amp, option, expected", [
    (1.0, 4.0, "--acc-unit=m/s2", "units look wrong: median |a| is 1.00, as in g"),
    (9.81, 229.0, "--gyro-unit=rad/s", "units look wrong: 99th percentile of |gyro| is 229, as in deg/s"),
])
def test_a_unit_given_against_the_data_is_refused(acc, gyro_amp, option, expected, tmp_path):
    """The unit given wins over the one read from the data, so the check of the converted samples
    still refuses g read as m/s² and deg/s read as rad/s: one line, exit 2, no tables."""
    path = _recording(tmp_path / "other_units.csv", 10.0, acc, gyro_amp)
    result = gaitmon("analyze", str(path), "--out", str(tmp_path / "out"), option)
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert expected in line, line
    assert not (tmp_path / "out").exists()


def test_a_five_stride_walk_is_analysed(foot_dataset, tmp_path):
    """Five strides after the U-turn of a real walk (≈ 5 s): steps come out (the former 100 rad²/s
    orientation lock needed most of them before it released any)."""
    from gaitmon.io import write_imu_csv

    samples = read_imu_csv(foot_dataset / "S02_T2_imu.csv")
    walk = {side: (t[(t >= 16.61) & (t < 22.0)], x[(t >= 16.61) & (t < 22.0)]) for side, (t, x) in samples.items()}
    write_imu_csv(tmp_path / "walk.csv", walk)
    result = gaitmon("analyze", str(tmp_path / "walk.csv"), "--placement", "foot", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "out" / "steps.csv") as f:
        steps = list(csv.DictReader(f))
    assert len(steps) >= 6 and {s["side"] for s in steps} == {"left", "right"}
