"""``gaitmon reanalyze``: many sessions re-analysed one after another, on 2 local processes and on a
2-worker Dask ``LocalCluster`` (127.0.0.1) write byte-identical outputs, the same as ``gaitmon replay
--headless`` (session folders) and ``gaitmon analyze`` (a samples CSV) write; a session with a
truncated journal fails with its reason while the others finish; the history gets what ``gaitmon
import`` gives it."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import shutil
from pathlib import Path

import pytest

from gaitmon.analysis.calibration import Calibration, CalibrationEntry
from gaitmon.cli import main
from gaitmon.engine.acquisition import run_live
from gaitmon.io import write_imu_csv
from gaitmon.session.history import History
from gaitmon.sources.virtual import emulated_pair

#: One short recorded session per sensor family (12 s: one sprint rep, ~20 steps), each its own athlete.
FAMILIES = {"gaitmon_diy": "Ana", "movesense": "Bo", "polar_pmd": "Cleo", "witmotion": "Dan"}
#: Files every re-analysed session folder gets (those of ``gaitmon replay --headless``).
SESSION_FILES = {"events.csv", "steps.csv", "reps.csv", "flags.csv", "gaps.csv", "health.csv", "report.html"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """name → input: the recorded session folders, a copy of one whose journal is cut 10 bytes in
    (within the file header), and a samples CSV."""
    base = tmp_path_factory.mktemp("recorded")
    found = {}
    for seed, (family, athlete) in enumerate(FAMILIES.items(), 1):
        folder = base / family
        pair = emulated_pair(family, "swing_plateau", seed=seed, n_reps=1, recovery_s=2.0)
        assert run_live({"left": "L", "right": "R"}, folder, athlete=athlete, emulated=pair, duration_s=12.0,
                        virtual_clock=True, add_to_history=False, print_fn=lambda line: None) == 0
        found[family] = folder
    broken = base / "broken"
    shutil.copytree(found["movesense"], broken)
    with open(broken / "journal.gmj", "r+b") as journal:
        journal.truncate(10)
    found["broken"] = broken
    csv = base / "sprint.csv"
    write_imu_csv(csv, emulated_pair("gaitmon_diy", "balanced", seed=9, rate_hz=200.0, n_reps=1,
                                     recovery_s=2.0).session.samples)
    found["sprint"] = csv
    return found


def _reanalyze(inputs: dict[str, Path], out: Path, capsys, *how: str) -> tuple[int, str]:
    status = main(["reanalyze", *map(str, inputs.values()), "--out", str(out), "--athlete", "Eve",
                   "--db", str(out.parent / f"{out.name}.sqlite"), *how])
    return status, capsys.readouterr().out


def _files(out: Path) -> dict[str, bytes]:
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*")) if path.is_file()}


def _assert_same_tree(a: Path, b: Path) -> None:
    first, second = _files(a), _files(b)
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert not different, f"differ between {a} and {b}: {different}"


@pytest.fixture(scope="module")
def serial(inputs, tmp_path_factory) -> tuple[Path, int, str]:
    """The sessions one after another in the command's process, the reference of the others:
    (output folder, exit status, stdout); its history is ``out.sqlite`` next to the folder."""
    out = tmp_path_factory.mktemp("serial") / "out"
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        status = main(["reanalyze", *map(str, inputs.values()), "--out", str(out), "--athlete", "Eve",
                       "--db", str(out.parent / "out.sqlite"), "--workers", "1"])
    return out, status, printed.getvalue()


def test_serial_run_writes_every_session_and_names_the_broken_one(inputs, serial):
    out, status, printed = serial
    assert status == 2  # a session failed
    assert f"{inputs['broken'] / 'journal.gmj'}: offset 0: not a gaitmon journal (bad file header)" in printed
    assert "in this process" in printed and "5 done, 1 failed" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(set(inputs) - {"broken"})
    for name in FAMILIES:
        assert {p.name for p in (out / name).iterdir()} == SESSION_FILES
        assert (out / name / "steps.csv").read_bytes().count(b"\n") > 10  # a real step table
    assert {p.name for p in (out / "sprint").iterdir()} == SESSION_FILES - {"gaps.csv", "health.csv"}


def test_outputs_are_those_of_replay_and_analyze(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    _reanalyze({name: inputs[name] for name in ("witmotion", "sprint")}, out, capsys, "--workers", "1",
               "--no-history")
    assert main(["replay", str(inputs["witmotion"].resolve()), "--headless", "--out", str(tmp_path / "replay"),
                 "--no-calibration"]) == 0
    assert main(["analyze", str(inputs["sprint"].resolve()), "--athlete", "Eve", "--out", str(tmp_path / "analyze"),
                 "--no-calibration"]) == 0
    _assert_same_tree(out / "witmotion", tmp_path / "replay")
    _assert_same_tree(out / "sprint", tmp_path / "analyze")


def test_the_athletes_saved_calibration_applies_in_the_workers(inputs, tmp_path, capsys):
    db = tmp_path / "out.sqlite"  # the history _reanalyze gives this output folder
    with History(db) as history:
        history.add_calibration(Calibration("bo", "2026-11-30T10:00:00+00:00", "force plates", (
            CalibrationEntry("contact", "all", 0.012, 0.010, 80), CalibrationEntry("flight", "all", -0.009, 0.011, 80))))
    _reanalyze({name: inputs[name] for name in ("movesense", "polar_pmd")}, tmp_path / "out", capsys, "--workers", "2")
    assert main(["replay", str(inputs["movesense"].resolve()), "--headless", "--out", str(tmp_path / "replay"),
                 "--db", str(db)]) == 0
    _assert_same_tree(tmp_path / "out" / "movesense", tmp_path / "replay")
    assert b"contact_raw_s" in (tmp_path / "out" / "movesense" / "steps.csv").read_bytes()  # Bo's: calibrated
    assert b"contact_raw_s" not in (tmp_path / "out" / "polar_pmd" / "steps.csv").read_bytes()  # Cleo's: none


def test_two_processes_write_byte_identical_outputs(inputs, serial, tmp_path, capsys):
    status, printed = _reanalyze(inputs, tmp_path / "parallel", capsys, "--workers", "2")
    assert status == 2 and "on 2 local processes" in printed and "5 done, 1 failed" in printed
    _assert_same_tree(serial[0], tmp_path / "parallel")
    assert len(_files(tmp_path / "parallel")) == 4 * len(SESSION_FILES) + len(SESSION_FILES) - 2


def test_the_history_gets_what_import_gives_it(inputs, serial, tmp_path):
    out, _, printed = serial
    assert "(5 added, 0 updated, 0 unchanged)" in printed
    imported = [str(path) for name, path in inputs.items() if name != "broken"]
    assert main(["import", *imported, "--athlete", "Eve", "--db", str(tmp_path / "import.sqlite")]) == 0

    def stored(db: Path) -> dict:
        with History(db) as history:
            return {athlete: [(dataclasses.replace(record, imported_at=""), history.steps(record.session_id))
                              for record in history.sessions(athlete)] for athlete in history.athletes()}

    by_reanalyze = stored(out.parent / "out.sqlite")
    assert sorted(by_reanalyze) == sorted([*FAMILIES.values(), "Eve"])
    assert by_reanalyze == stored(tmp_path / "import.sqlite")


def test_a_dask_cluster_writes_byte_identical_outputs(inputs, serial, tmp_path, capsys):
    distributed = pytest.importorskip("distributed", reason="Dask distributed not installed "
                                      "(pip install 'gaitmon[cluster]')")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster:
        with distributed.Client(cluster) as client, distributed.get_task_stream(client) as stream:
            status, printed = _reanalyze(inputs, tmp_path / "dask", capsys, "--scheduler", cluster.scheduler_address)
    assert status == 2 and f"on the Dask cluster at {cluster.scheduler_address}" in printed
    assert "5 done, 1 failed" in printed
    assert len(stream.data) == 6 and len({task["worker"] for task in stream.data}) == 2  # both workers took some
    _assert_same_tree(serial[0], tmp_path / "dask")


def test_bad_options_are_one_line_errors(inputs, tmp_path, capsys):
    assert main(["reanalyze", str(inputs["movesense"]), "--out", str(tmp_path), "--workers", "0"]) == 2
    assert "gaitmon reanalyze: --workers: 0: give at least 1" in capsys.readouterr().err
    assert main(["reanalyze", str(inputs["movesense"]), "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9",
                 "--dask-local", "2"]) == 2
    assert "give --scheduler or --dask-local, not both" in capsys.readouterr().err
    assert main(["reanalyze", str(inputs["movesense"]), "--out", str(tmp_path), "--workers", "2",
                 "--dask-local", "2"]) == 2
    assert "gaitmon reanalyze: --workers: local processes or a Dask cluster" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before any work
