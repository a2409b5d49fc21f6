"""The end of a session: outputs built from the journal on disk (nothing of the stream kept in RAM
during the session), impossible journal records skipped with a line, a session without data kept
out of the history, and a session that stays with its athlete on re-import."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from gaitmon.engine.analyze import write_session_outputs
from gaitmon.engine.load import load
from gaitmon.engine.runtime import EmulatedSource, Engine, LiveSource
from gaitmon.session import journal
from gaitmon.session.folder import JOURNAL_FILE
from gaitmon.session.history import History
from gaitmon.sim import write_session
from gaitmon.sources.replay import replay_session
from gaitmon.sources.virtual import emulated_pair
from tests.conftest import simulated

NAME = "Ana"


def gaitmon(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gaitmon", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One emulated two-leg session (virtual clock) recorded by the engine; what it kept meanwhile."""
    base = tmp_path_factory.mktemp("end")
    pair = emulated_pair("gaitmon_diy", "swing_plateau", seed=2, n_reps=2, recovery_s=5.0)
    seen: list[tuple] = []
    lines: list[str] = []
    engine: Engine

    def tick(_s: float) -> None:
        athlete = engine._athletes[NAME]
        live = engine.live(NAME)
        seen.append((athlete.store, live.block_listener, live.projection_listener, vars(live).get("kept")))

    engine = Engine({NAME: EmulatedSource(prepared=pair, realtime=False)}, sessions_dir=base, dashboard=False,
                    history_db=base / "history.sqlite", on_tick=tick, on_message=lines.append, on_error=lines.append)
    engine.run_to_end()
    return engine.recorder(NAME).folder, seen, lines, base


def test_the_live_session_keeps_nothing_of_the_stream(recorded):
    _, seen, _, _ = recorded
    assert len(seen) > 100
    assert all(held == (None, None, None, None) for held in seen)


def test_the_outputs_are_built_from_the_journal_and_equal_a_replay(recorded, tmp_path):
    folder, _, lines, base = recorded
    assert any(line.startswith("Athlete history: session added") for line in lines), lines
    loaded = load(folder, spool_dir=tmp_path)
    write_session_outputs(tmp_path, loaded.result, loaded.live, loaded.samples, loaded.meta)
    for name in ("events.csv", "steps.csv", "gaps.csv", "reps.csv"):
        assert (folder / name).read_bytes() == (tmp_path / name).read_bytes(), name
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "no traces" not in report and report.count("<path") > 10
    with History(base / "history.sqlite") as history:
        assert len(history.sessions(NAME)) == 1
    assert not [p for p in folder.iterdir() if p.name.startswith(".gaitmon-")]  # spool files are gone


def test_a_replay_keeps_its_samples_on_disk_and_gives_them_back_exactly(recorded, tmp_path):
    folder, _, _, _ = recorded
    replayed = replay_session(folder, spool_dir=tmp_path)
    samples, traces = replayed.store.samples(), replayed.store.traces()
    health = replayed.live.health()
    assert {role: len(t) for role, (t, _) in samples.items()} == {role: h.samples for role, h in health.items()}
    assert all(x.shape == (len(t), 6) and x.dtype.name == "float32" for t, x in samples.values())
    assert set(traces) == set(samples) and all(len(t) == len(w) > 1000 for t, w in traces.values())
    replayed.store.close()


def _setup_record(rate) -> bytes:
    setup = {"family": "gaitmon_diy", "rate_hz": rate, "streams": {"imu": "x"}, "settings": {}}
    return journal.json_record(journal.CONFIGURED, 0.5, {"role": "left", "setup": setup})


@pytest.mark.parametrize("rate", [0, math.nan, -100.0, 1e12, "fast", None])
def test_an_impossible_sensor_setup_in_the_journal_is_skipped_with_a_line(recorded, tmp_path, rate):
    folder, _, _, _ = recorded
    copy = tmp_path / "s"
    copy.mkdir()
    (copy / "session.json").write_bytes((folder / "session.json").read_bytes())
    original = (folder / JOURNAL_FILE).read_bytes()
    head = journal.HEADER_SIZE
    (copy / JOURNAL_FILE).write_bytes(original[:head] + _setup_record(rate) + original[head:])
    replayed = replay_session(copy, spool_dir=tmp_path)
    assert len(replayed.problems) == 1 and "offset 20: unusable configured record" in replayed.problems[0]
    assert replayed.live.steps()  # everything else replayed
    result = gaitmon("analyze", str(copy), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unusable configured record" in result.stderr


def test_a_session_without_data_is_not_analysed_nor_added(tmp_path):
    pair = emulated_pair("gaitmon_diy", "balanced", seed=0, n_reps=1)
    lines: list[str] = []
    engine = Engine({NAME: LiveSource({"left": "AA:BB:CC:DD:EE:FF"}, backends=pair.backends, duration_s=1.5)},
                    sessions_dir=tmp_path, history_db=tmp_path / "history.sqlite", dashboard=False,
                    on_message=lines.append, on_error=lines.append)
    engine.run_to_end()
    assert any(line.startswith("no data: no sensor delivered a sample (left: ") and "not added" in line
               for line in lines), lines
    assert not any(line.startswith("athlete history") for line in lines)
    with History(tmp_path / "history.sqlite") as history:
        assert history.sessions(NAME) == []
    assert not (engine.recorder(NAME).folder / "steps.csv").exists()


def test_reimporting_a_csv_under_another_athlete_is_refused(tmp_path):
    write_session(simulated("balanced", seed=4, rate=500.0, n_reps=2), tmp_path / "sim")
    csv_path, db = tmp_path / "sim" / "imu.csv", tmp_path / "h.sqlite"
    first = gaitmon("import", str(csv_path), "--athlete", "Ann", "--db", str(db))
    assert first.returncode == 0, first.stderr
    again = gaitmon("import", str(csv_path), "--athlete", "Bob", "--db", str(db))
    assert again.returncode == 2
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and str(csv_path) in lines[0] and "Ann" in lines[0] and "not moved to Bob" in lines[0]
    with History(db) as history:
        assert len(history.sessions("Ann")) == 1 and history.sessions("Bob") == []
    same = gaitmon("import", str(csv_path), "--athlete", "Ann", "--db", str(db))  # the same athlete again
    assert same.returncode == 0 and "unchanged" in same.stdout
    moved = gaitmon("import", str(csv_path), "--athlete", "Bob", "--db", str(db), "--reassign")  # asked for
    assert moved.returncode == 0 and "updated" in moved.stdout
    with History(db) as history:
        assert history.sessions("Ann") == [] and len(history.sessions("Bob")) == 1
