"""Recorded sessions end to end: record (emulated BLE) → replay → identical results; the CLI on
sessions, damaged sessions, and the athlete history fed by live runs and imports."""

from __future__ import annotations

import functools
import json
import math
import shutil

import numpy as np
import pytest

from gaitmon.analysis.steps import Step
from gaitmon.engine.acquisition import run_live
from gaitmon.cli import main
from gaitmon.session import journal
from gaitmon.session.folder import JOURNAL_FILE, META_FILE, read_meta
from gaitmon.sources.replay import replay_session
from gaitmon.sources.virtual import Faults, emulated_pair

FAMILIES = ("gaitmon_diy", "polar_pmd", "movesense", "witmotion")
DURATION_S = 30.0


def _faults():
    common = dict(drop=0.01, duplicate=0.01, reorder=0.01, corrupt=0.01, jitter_s=0.02)
    return {"left": Faults(seed=1, disconnect_at_s=14.0, away_s=1.5, **common), "right": Faults(seed=2, **common)}


def _same(a: list[Step], b: list[Step]) -> bool:
    """Step tables equal, NaN equal to NaN."""
    def norm(steps):
        return [{k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in s.as_row().items()}
                for s in steps]
    return norm(a) == norm(b)


@functools.lru_cache(maxsize=None)
def _recorded(family: str, base: str):
    """Record one emulated session (virtual clock) with link faults; returns (folder, live lines)."""
    from pathlib import Path

    folder = Path(base) / family
    lines: list[str] = []
    pair = emulated_pair(family, "swing_plateau", seed=3, faults=_faults())
    status = run_live({"left": "L", "right": "R"}, folder, athlete="Ana", emulated=pair, duration_s=DURATION_S,
                      virtual_clock=True, print_fn=lines.append)
    assert status == 0
    return folder, lines


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("rec"))
    return lambda family: _recorded(family, base)


@pytest.mark.parametrize("family", FAMILIES)
def test_replay_gives_exactly_the_live_results(recordings, family, tmp_path):
    """Record (faults, a disconnection) → replay: identical events, steps, gaps and health counts."""
    folder, _ = recordings(family)
    live_events = (folder / "events.csv").read_bytes()
    live_steps = (folder / "steps.csv").read_bytes()
    assert main(["replay", str(folder), "--headless", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "events.csv").read_bytes() == live_events
    assert (tmp_path / "steps.csv").read_bytes() == live_steps
    assert (tmp_path / "gaps.csv").read_bytes() == (folder / "gaps.csv").read_bytes()
    assert live_events.count(b"\n") > 100  # a real session, not an empty table
    replayed = replay_session(folder)
    assert replayed.scan.closed and not replayed.problems
    health = {r: s.as_dict() for r, s in replayed.live.health().items()}
    live_health = (folder / "health.csv").read_text().splitlines()
    assert len(live_health) == 1 + len(health)
    assert health["left"]["reconnects"] == 1  # the disconnection was recorded and replayed


def test_replay_in_memory_equals_a_second_replay_and_the_recorded_meta(recordings):
    folder, _ = recordings("gaitmon_diy")
    a, b = replay_session(folder), replay_session(folder)
    assert a.live.events == b.live.events and _same(a.live.steps(), b.live.steps())
    meta = read_meta(folder)
    assert meta.athlete == "Ana" and meta.source == "emulated:gaitmon_diy" and meta.ended_at
    assert set(meta.sensors) == {"left", "right"}
    assert meta.sensors["left"].family == "gaitmon_diy" and meta.sensors["left"].rate_hz > 0
    assert meta.sensors["left"].address == "C0:FF:EE:00:00:01"
    assert abs(meta.duration_s - DURATION_S) < 1.0


def test_replay_at_real_time_multiple_is_paced(recordings, tmp_path, capsys):
    folder, _ = recordings("gaitmon_diy")
    import time

    started = time.perf_counter()
    assert main(["replay", str(folder), "--speed", "20", "--headless", "--out", str(tmp_path)]) == 0
    elapsed = time.perf_counter() - started
    assert elapsed >= DURATION_S / 20 * 0.9
    assert (tmp_path / "events.csv").read_bytes() == (folder / "events.csv").read_bytes()
    assert main(["replay", str(folder), "--speed", "-3", "--headless", "--out", str(tmp_path)]) == 2
    assert "--speed" in capsys.readouterr().err


def test_analyze_a_session_folder_writes_tables_and_report(recordings, tmp_path, capsys):
    folder, _ = recordings("polar_pmd")
    assert main(["analyze", str(folder), "--out", str(tmp_path)]) == 0
    for name in ("events.csv", "steps.csv", "reps.csv", "flags.csv", "gaps.csv", "health.csv", "report.html"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "events.csv").read_bytes() == (folder / "events.csv").read_bytes()
    html = (tmp_path / "report.html").read_text()
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org", "")


def test_live_session_lands_in_the_history_and_import_is_idempotent(recordings, tmp_path, capsys):
    folder, lines = recordings("movesense")
    assert any("Athlete history: session added" in line for line in lines)
    db = tmp_path / "h.sqlite"
    assert main(["import", str(folder), "--db", str(db)]) == 0
    assert main(["import", str(folder), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.count(": added") == 1 and out.count(": unchanged") == 1
    assert main(["history", "ana", "--db", str(db)]) == 0
    assert read_meta(folder).started_at[:10] in capsys.readouterr().out
    assert main(["history", "nobody", "--db", str(db)]) == 2
    assert "no sessions for athlete 'nobody'" in capsys.readouterr().err


def test_import_a_csv_needs_an_athlete_and_is_idempotent(tmp_path, capsys):
    from gaitmon.io import write_imu_csv
    from tests.conftest import simulated

    csv = tmp_path / "run.csv"
    write_imu_csv(csv, simulated("balanced", 0, 200.0).samples)
    db = tmp_path / "h.sqlite"
    assert main(["import", str(csv), "--db", str(db)]) == 2
    assert "--athlete" in capsys.readouterr().err
    assert main(["import", str(csv), "--athlete", "Bo", "--db", str(db)]) == 0
    assert main(["import", str(csv), "--athlete", "Bo", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert ": added" in out and ": unchanged" in out


# -- damaged and foreign sessions ---------------------------------------------------------------------


def _copy(recordings, tmp_path, family="gaitmon_diy"):
    folder, _ = recordings(family)
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    return copy


def test_journal_cut_mid_record(recordings, tmp_path, capsys):
    """A journal cut mid-record: exit 2, the message names the file, the offset and what was recovered,
    and everything before the cut is analysed."""
    copy = _copy(recordings, tmp_path)
    path = copy / JOURNAL_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 7])
    out = tmp_path / "out"
    assert main(["replay", str(copy), "--headless", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert str(path) in err and "offset" in err and "recovered" in err and "incomplete" in err
    assert (out / "events.csv").read_text().count("\n") > 50  # the intact first half, analysed


def test_journal_with_a_corrupted_stretch(recordings, tmp_path, capsys):
    copy = _copy(recordings, tmp_path)
    path = copy / JOURNAL_FILE
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle:middle + 300] = bytes(300)
    path.write_bytes(bytes(raw))
    assert main(["analyze", str(copy), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{path}: offset" in err and "skipped" in err and "Traceback" not in err
    replayed = replay_session(copy)
    original = replay_session(recordings("gaitmon_diy")[0])
    assert len(replayed.live.events) >= len(original.live.events) - 6  # ~0.1 s of data lost, not the rest
    assert replayed.scan.closed  # the records after the damage were read


@pytest.mark.parametrize("damage, message", [
    ("no_meta", "not a gaitmon session folder"),
    ("bad_json", "session.json: line 1 column"),
    ("foreign_json", "not a gaitmon session"),
    ("no_journal", "has no journal.gmj"),
    ("foreign_journal", "offset 0: not a gaitmon journal"),
    ("file", "not a recorded session folder"),
])
def test_foreign_or_broken_session_folders(recordings, tmp_path, capsys, damage, message):
    copy = _copy(recordings, tmp_path)
    target = copy
    if damage == "no_meta":
        (copy / META_FILE).unlink()
    elif damage == "bad_json":
        (copy / META_FILE).write_text("{not json")
    elif damage == "foreign_json":
        (copy / META_FILE).write_text(json.dumps({"format": "something-else"}))
    elif damage == "no_journal":
        (copy / JOURNAL_FILE).unlink()
    elif damage == "foreign_journal":
        (copy / JOURNAL_FILE).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    elif damage == "file":
        target = copy / "events.csv"
    assert main(["replay", str(target), "--headless", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.count("\n") == 1 or damage == "no_meta"


def test_a_kill_leaves_an_unclosed_but_whole_session(recordings, tmp_path, capsys):
    """Like a crash: the CLOSE record and the end time are missing; everything opens (exit 0, a note)."""
    copy = _copy(recordings, tmp_path)
    path = copy / JOURNAL_FILE
    scan = journal.JournalScan(path)
    records = list(journal.iter_records(path, scan))
    assert records[-1].kind == journal.CLOSE
    path.write_bytes(path.read_bytes()[: records[-1].offset])
    meta = json.loads((copy / META_FILE).read_text())
    meta["ended_at"] = None
    (copy / META_FILE).write_text(json.dumps(meta))
    assert main(["replay", str(copy), "--headless", "--out", str(tmp_path / "out")]) == 0
    assert "was not closed" in capsys.readouterr().err


def test_recording_refuses_to_overwrite(recordings, tmp_path, capsys):
    """A folder that holds a recording is refused before anything starts; nothing in it changes."""
    folder, _ = recordings("gaitmon_diy")
    copy = tmp_path / "again"
    shutil.copytree(folder, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    assert main(["live", "--left", "L", "--emulated", "gaitmon_diy", "--virtual-clock", "--duration", "2",
                 "--out", str(copy)]) == 2
    assert "already holds a recording" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before


def test_samples_in_the_replay_are_the_decoded_stream(recordings):
    replayed = replay_session(recordings("gaitmon_diy")[0])
    samples = replayed.store.samples()
    for t, x in samples.values():
        assert np.all(np.diff(t) > 0) and x.dtype == np.float32 and x.shape == (len(t), 6)


# -- exports and imports ------------------------------------------------------------------------------


def test_record_export_bids_import_gives_identical_samples(recordings, tmp_path, capsys):
    """Record (emulated BLE) → BIDS export → import: the decoded samples come back bit-identical
    (times within 1 ns, the text's resolution), with the metadata and events."""
    from gaitmon.session.bids import read_bids

    folder, _ = recordings("polar_pmd")
    bids = tmp_path / "bids"
    assert main(["export", str(folder), "--bids", str(bids)]) == 0
    replayed = replay_session(folder)
    original = replayed.store.samples()
    back = read_bids(bids)
    assert set(back.samples) == set(original) == {"left", "right"}
    for side, (t, x) in original.items():
        t2, x2 = back.samples[side]
        assert x2.dtype == np.float32 and np.array_equal(x2, x)
        assert np.max(np.abs(t2 - t)) <= 1e-9
    assert back.meta.session_id == replayed.meta.session_id and back.meta.athlete == "Ana"
    assert sorted(e.kind for e in back.events) == sorted(e.kind for e in replayed.live.events)
    # the BIDS copy analyses like the original samples, and imports into the history as the same session
    db = tmp_path / "h.sqlite"
    assert main(["import", str(folder), "--db", str(db)]) == 0
    assert main(["import", str(bids), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert ": added" in out and (": unchanged" in out or ": updated" in out)


def test_analyze_a_csv_with_bad_rows_uses_the_intact_rows(tmp_path, capsys):
    from gaitmon.io import write_imu_csv
    from tests.conftest import simulated

    csv = tmp_path / "run.csv"
    write_imu_csv(csv, simulated("balanced", 0, 200.0).samples)
    lines = csv.read_text().splitlines()
    lines[500] = "0.5,left,abc,1,2,3,4,5"
    lines.append("99999.0,right,1,2")
    csv.write_text("\n".join(lines) + "\n")
    assert main(["analyze", str(csv), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{csv}: line 501" in err and "recovered" in err and "Traceback" not in err
    assert (tmp_path / "out" / "steps.csv").read_text().count("\n") > 50
    assert (tmp_path / "out" / "report.html").exists()


def test_analyze_the_shared_dataset_layout(foot_dataset, tmp_path):
    """The CSV layout of shared/datasets (real foot-IMU walking data) is read and analysed."""
    csv = foot_dataset / "S01_T4_imu.csv"
    assert main(["analyze", str(csv), "--placement", "foot", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "events.csv").read_text().count("\n") > 10
