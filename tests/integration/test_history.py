"""The athlete history (gaitmon.session.history): round trips, idempotent imports, crashes, bad files.

The tests taking the ``db`` fixture run on both stores: a SQLite file, and a fresh database on a
private PostgreSQL server (tests/support/postgres.py; skipped without the server binaries or psycopg).

Step tables come from simulated sessions run through the detector (``build_steps(detect_events(…))``,
what ``gaitmon.engine.analyze.analyze_samples`` does), so they have the NaNs of real detections.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import os
import pickle
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from gaitmon.analysis import REP_COLUMNS, segment_reps, session_scale_flags
from gaitmon.analysis.balance import LegOutputs, leg_medians, per_side_confidence, percent_points, top_speed_rows
from gaitmon.analysis.trends import group_trend, smallest_worthwhile_change
from gaitmon.analysis.calibration import Calibration, CalibrationEntry
from gaitmon.analysis.flags import session_scale_flags_of_outputs
from gaitmon.errors import InputError
from gaitmon.stream.pipeline import detect_events
from gaitmon.session.history import (MIN_SESSIONS, SCHEMA_VERSION, History, SessionOwnerError, default_data_dir, default_db_path,
                                     history_text)
from gaitmon.session.history_store import open_store
from gaitmon.session.meta import SensorInfo, SessionMeta
from gaitmon.analysis.steps import STEP_COLUMNS, Step, build_steps
from tests.conftest import REPO, simulated

MONDAY = dt.datetime(2024, 1, 8, 9, 30, tzinfo=dt.timezone.utc)
CALIBRATION = Calibration("Ana Silva", "2024-01-01T10:00:00+00:00", "OptoJump run1.csv", (
    CalibrationEntry("flight", "all", 0.004, 0.003, 40), CalibrationEntry("contact", "all", -0.006, 0.004, 40),
    CalibrationEntry("contact", "top_speed", -0.005, math.nan, 12)))


@functools.lru_cache(maxsize=None)
def _detected_steps(seed: int) -> tuple[Step, ...]:
    """One athlete's sessions: the same simulated athlete (event offsets, landing), new strides."""
    samples = simulated("balanced", seed=seed, rate=200.0, n_reps=4, athlete_seed=0).samples
    return tuple(build_steps(detect_events(samples), sides=samples.keys()))


def _steps(seed: int, swing_gain: float = 1.0, push_gain: float = 1.0) -> list[Step]:
    """Fresh copies of a simulated session's detected steps, outputs optionally scaled."""
    return [dataclasses.replace(step, swing_peak_rad_s=step.swing_peak_rad_s * swing_gain,
                                push_force_bw=step.push_force_bw * push_gain) for step in _detected_steps(seed)]


def _meta(athlete: str = "Ana Silva", week: int = 0, **fields) -> SessionMeta:
    fields.setdefault("started_at", (MONDAY + dt.timedelta(weeks=week)).isoformat(timespec="microseconds"))
    sensors = {"left": SensorInfo("left", address="AA:BB", family="diy", rate_hz=200.0),
               "right": SensorInfo("right", address="CC:DD", family="diy", rate_hz=200.0)}
    return SessionMeta(athlete=athlete, sensors=sensors, **fields)


def _same(a, b) -> bool:
    """Equal, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _same_rows(got: list[dict], want: list[dict]) -> bool:
    return len(got) == len(want) and all(
        set(g) == set(w) and all(_same(g[k], w[k]) for k in w) for g, w in zip(got, want))


def _same_steps(got: list[Step], want: list[Step]) -> bool:
    return all(type(step) is Step for step in got) and _same_rows([s.as_row() for s in got],
                                                                   [s.as_row() for s in want])


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """Where a history goes: a SQLite file that does not exist yet, or the URI of an empty PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "history.sqlite"
    return request.getfixturevalue("postgres_server").new_database()


def _count(db, table: str, session_id: str) -> int:
    store = open_store(db)
    try:
        return store.query(f"SELECT count(*) FROM {table} WHERE session_id = ?", (session_id,))[0][0]
    finally:
        store.close()


def test_sessions_steps_and_reps_round_trip(db, tmp_path):
    path = tmp_path / "deep" / "folder" / "history.sqlite" if db == tmp_path / "history.sqlite" else db
    metas = [_meta(week=w) for w in range(3)]
    with History(path) as history:
        for week in (2, 0, 1):  # imported out of order, listed by date
            assert history.add_session(metas[week], _steps(week), source_path=f"/data/week{week}") == "added"
        records = history.sessions("Ana Silva")
        assert [r.session_id for r in records] == [m.session_id for m in metas]
        for week, (meta, record) in enumerate(zip(metas, records)):
            steps = _steps(week)
            assert any(math.isnan(step.flight_s) for step in steps)  # real detections: NaNs to keep
            stored = history.steps(meta.session_id)
            assert _same_steps(stored, steps)
            want_reps = [row for rep in segment_reps(steps) for row in rep.table_rows()]
            assert len(want_reps) == 3 * 4  # 4 reps × (left, right, both)
            assert _same_rows(history.reps(meta.session_id), want_reps)
            assert list(history.reps(meta.session_id)[0]) == list(REP_COLUMNS)
            assert (record.n_steps, record.n_reps, record.source_path) == (len(steps), 4, f"/data/week{week}")
            assert record.meta == meta
        assert history.steps("no such session") == [] and history.sessions("nobody") == []
    store = open_store(path)
    phases = {p for (p,) in store.query("SELECT DISTINCT phase FROM steps")}
    store.close()
    assert phases == {None, "acceleration", "top_speed", "deceleration"}
    if isinstance(path, str):
        return
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        step_columns = [c[1] for c in db.execute("PRAGMA table_info(steps)")]
        assert step_columns == ["session_id", "step", *STEP_COLUMNS, "rep", "phase"]
        assert [c[1] for c in db.execute("PRAGMA table_info(reps)")] == ["session_id", *REP_COLUMNS]
    db.close()


def test_reimport_is_idempotent_and_a_reanalysis_replaces_the_rows(db):
    path = db
    meta, other = _meta(week=0), _meta(week=1)
    with History(path) as history:
        assert history.add_session(meta, _steps(0)) == "added"
        assert history.add_session(other, _steps(1)) == "added"
        before = history.sessions("Ana Silva")
        n_steps = _count(path, "steps", meta.session_id)

        assert history.add_session(meta, _steps(0), source_path="elsewhere") == "unchanged"
        assert history.sessions("Ana Silva") == before  # nothing written, not even imported_at
        assert _count(path, "steps", meta.session_id) == n_steps

        reanalysed = _steps(0)[:-5]  # e.g. a newer detector: different steps, same session
        reanalysed[0] = dataclasses.replace(reanalysed[0], contact_s=reanalysed[0].contact_s + 0.001)
        assert history.add_session(meta, reanalysed) == "updated"
        assert _same_steps(history.steps(meta.session_id), reanalysed)
        assert _count(path, "steps", meta.session_id) == n_steps - 5
        assert history.sessions("Ana Silva")[0].n_steps == n_steps - 5
        assert _same_steps(history.steps(other.session_id), _steps(1))  # the other session untouched

        meta.notes = "wet track"  # metadata is content too
        assert history.add_session(meta, reanalysed) == "updated"
        assert history.sessions("Ana Silva")[0].notes == "wet track"
        assert history.add_session(meta, reanalysed) == "unchanged"


def test_athletes_are_matched_case_insensitively(db):
    with History(db) as history:
        history.add_session(_meta("Ana Silva", week=0), _steps(0))
        history.add_session(_meta("  ANA silva ", week=1), _steps(1))
        history.add_session(_meta("Bo Lee", week=0), _steps(2))
        assert history.athletes() == ["Ana Silva", "Bo Lee"]  # shown as first imported
        for spelling in ("ana silva", " Ana SILVA", "Ana Silva"):
            assert len(history.sessions(spelling)) == 2
        assert [r.athlete for r in history.sessions("ana silva")] == ["Ana Silva", "Ana Silva"]
        assert len(history.sessions("bo lee")) == 1

        moved = _meta("Cy Ode", week=3)
        history.add_session(moved, _steps(3))
        moved.athlete = "Bo Lee"  # the session was filed under the wrong athlete: moved only when asked
        with pytest.raises(SessionOwnerError, match="already in the history as Cy Ode's"):
            history.add_session(moved, _steps(3))
        assert history.add_session(moved, _steps(3), reassign=True) == "updated"
        assert history.athletes() == ["Ana Silva", "Bo Lee"]  # no athlete left without sessions
        assert len(history.sessions("Bo Lee")) == 2

        with pytest.raises(ValueError, match="no athlete name"):
            history.add_session(_meta("  "), _steps(0))
        with pytest.raises(ValueError, match="not a step table: a dict where a Step belongs"):
            history.add_session(_meta(), [step.as_row() for step in _steps(0)])


def test_history_text_lists_every_session_and_raises_the_session_scale_flag(db):
    """Six weekly sessions where the swing side stops improving after week 3 while the push side keeps
    improving. The simulator's plateaus are within a session, so the weekly change is made here
    synthetically: each week's detected steps have swing_peak_rad_s and push_force_bw scaled. The
    weeks alternate between two sessions of one simulated athlete, so the change between weeks is
    the one made here, not one session's draw against another's."""
    with History(db) as history:
        for week in range(6):
            steps = _steps(week % 2, swing_gain=1 + 0.03 * min(week, 2), push_gain=1 + 0.03 * week)
            history.add_session(_meta(week=week), steps)
        text = history_text(history, "ana SILVA")
    print(text)
    for week in range(6):
        assert (MONDAY + dt.timedelta(weeks=week)).date().isoformat() in text
    assert "2024-01-08     4  " in text  # date, reps
    assert "FLAG after 2024-02-12" in text
    assert "swing speed has stopped rising" in text and "%/session" in text
    assert "needs at least 4" not in text


def test_history_reads_the_top_speed_steps_stored_at_import(db, monkeypatch):
    """``gaitmon history`` takes each rep's top-speed steps as stored at import (one query), not by
    reading and segmenting every step again (issue #19: 200 sessions took 11.6 s that way): the same
    steps as segmenting the stored step tables gives."""
    import gaitmon.session.history as history_module

    with History(db) as history:
        for week in range(5):
            history.add_session(_meta(week=week), _steps(week % 2, swing_gain=1 + 0.02 * week))
        stored = history.top_speed_steps("Ana Silva")
        records = history.sessions("Ana Silva")
        assert [r.session_id for r in records] == sorted(stored, key=[r.session_id for r in records].index)
        for record in records:
            reps = segment_reps(history.steps(record.session_id))
            assert len(reps) == record.n_reps and sorted(stored[record.session_id]) == [r.number for r in reps]
            for rep in reps:
                assert _same_steps(stored[record.session_id][rep.number], rep.top_speed)
        expected = history_text(history, "Ana Silva")
        monkeypatch.setattr(history_module, "segment_reps", lambda steps: pytest.fail("history segmented again"))
        monkeypatch.setattr(History, "steps", lambda self, session_id: pytest.fail("history read every step"))
        monkeypatch.setattr(History, "top_speed_steps", lambda self, athlete: pytest.fail("history read steps"))
        assert history_text(history, "Ana Silva") == expected


def test_the_results_stored_at_import_are_those_of_the_steps(db):
    """What ``gaitmon history`` reads (History.session_results: per-leg medians and the top-speed
    outputs, stored at import) gives bit for bit what segmenting every stored step table gives:
    the same medians and the same session-scale flags, trends included (a flag is raised here)."""
    with History(db) as history:
        for week in range(6):
            steps = _steps(week % 2, swing_gain=1 + 0.03 * min(week, 2), push_gain=1 + 0.03 * week)
            history.add_session(_meta(week=week), steps)
        history.add_session(_meta(week=6), _steps(2)[:3])  # too few steps for a rep
        records = history.sessions("Ana Silva")
        stored = history.session_results("Ana Silva")
        segmented = [(r.session_id, segment_reps(history.steps(r.session_id))) for r in records]
    assert sorted(stored) == sorted(r.session_id for r in records)
    assert [len(reps) for _, reps in segmented][-1] == 0 and records[-1].n_reps == 0
    for session_id, reps in segmented:
        want = leg_medians(top_speed_rows(reps))
        assert all(_same(stored[session_id].medians[leg][key], want[leg][key]) for leg in want for key in want[leg])
        outputs = LegOutputs.of_steps(top_speed_rows(reps))
        got = stored[session_id].top_speed
        for field in ("right", "swing", "push"):
            assert getattr(got, field).tobytes() == getattr(outputs, field).tobytes()
    # each stored assessment is the per-step estimate over its window's top-speed steps (percent_points,
    # group_trend, smallest_worthwhile_change: what the session scale ran before results were stored)
    with_reps = [(session_id, reps) for session_id, reps in segmented if reps]
    baselines = leg_medians(top_speed_rows(with_reps[0][1]))
    for k in range(MIN_SESSIONS, len(with_reps) + 1):
        session_id = with_reps[k - 1][0]
        units = [(i + 1, top_speed_rows(reps)) for i, (_, reps) in enumerate(with_reps)][max(0, k - 6):k]
        assert [a.side for a in stored[session_id].assessment] == ["left", "right", "both"]
        for a in stored[session_id].assessment:
            p = percent_points(units, a.side, baselines)
            confidence = per_side_confidence(3)
            assert repr((a.swing, a.push, a.balance, a.swing_swc, a.push_swc)) == repr((
                group_trend(p.x, p.swing, confidence), group_trend(p.x, p.push, confidence),
                group_trend(p.x, p.push - p.swing, confidence), smallest_worthwhile_change(p.swing, p.x),
                smallest_worthwhile_change(p.push, p.x)))
    want_flags = session_scale_flags(segmented, min_sessions=MIN_SESSIONS)
    got_flags = session_scale_flags_of_outputs([(session_id, stored[session_id].top_speed)
                                                for session_id, reps in segmented if reps], min_sessions=MIN_SESSIONS)
    assert want_flags and repr(got_flags) == repr(want_flags)


def test_the_session_scale_assessments_are_stored_at_import_and_kept_current(db, tmp_path, monkeypatch):
    """Each import stores the session-scale assessment after its session and redoes those that
    depended on what it changed (a session dated before others, a re-analysis): ``gaitmon history``
    then makes none, and prints what a history imported in date order prints."""
    import gaitmon.session.history as history_module

    weeks = {week: _steps(week % 2, swing_gain=1 + 0.03 * min(week, 2), push_gain=1 + 0.03 * week)
             for week in range(7)}
    with History(tmp_path / "in_order.sqlite") as history:
        for week, steps in weeks.items():
            history.add_session(_meta(week=week, session_id=f"week{week}"), steps)
        want = history_text(history, "Ana Silva")
    with History(db) as history:
        for week in (5, 0, 6, 1, 2, 4, 3):  # out of order, and week 2 first with other steps
            history.add_session(_meta(week=week, session_id=f"week{week}"), weeks[1 - week % 2] if week == 2 else weeks[week])
        history.add_session(_meta(week=2, session_id="week2"), weeks[2])  # re-analysed
        results = history.session_results("Ana Silva")
        assert [results[f"week{w}"].assessed is not None for w in range(7)] == [False] * 3 + [True] * 4
        monkeypatch.setattr(history_module, "session_assessments",
                            lambda outputs, after: pytest.fail("assessed again") if list(after) else {})
        got = history_text(history, "Ana Silva")
    assert "FLAG after" in want
    assert got.splitlines()[1:] == want.splitlines()[1:]  # the first names the database


def test_an_old_history_is_brought_up_to_date(tmp_path):
    """A version-2 file (no stored session results, calibrations ordered by rowid) opened by this
    gaitmon: migrated in place, the results filled from the stored steps, the same history text."""
    path = tmp_path / "history.sqlite"
    with History(path) as history:
        for week in range(5):
            history.add_session(_meta(week=week), _steps(week % 2, swing_gain=1 + 0.02 * week))
        history.add_calibration(CALIBRATION)
        expected = history_text(history, "Ana Silva")
        results = history.session_results("Ana Silva")
    with sqlite3.connect(path) as old:  # back to version 2's layout
        old.execute("DROP TABLE session_assessments")
        old.execute("DROP TABLE session_results")
        old.execute("ALTER TABLE calibrations DROP COLUMN entry")
        old.execute("PRAGMA user_version = 2")
    old.close()
    with History(path) as history:
        assert history_text(history, "Ana Silva") == expected
        assert repr(history.calibrations("Ana Silva")[0].entries) == repr(CALIBRATION.entries)  # in their order
        migrated = history.session_results("Ana Silva")
    assert repr(migrated) == repr(results)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    db.close()


def test_several_processes_import_into_one_history_at_once(db, tmp_path):
    """Three processes import different sessions of the same (new) athlete and of their own at
    the same time: none fails or waits forever, and every session is there once."""
    child = textwrap.dedent("""
        import pickle, sys
        from gaitmon.session.history import History
        from gaitmon.session.meta import SessionMeta
        worker, steps = int(sys.argv[2]), pickle.loads(open(sys.argv[3], "rb").read())
        with History(sys.argv[1]) as history:
            for week in range(3):
                started_at = f"2024-0{worker + 1}-0{week + 1}T10:00:00+00:00"
                history.add_session(SessionMeta(athlete="Team Mate", session_id=f"w{worker}s{week}", started_at=started_at),
                                    steps[week])
                history.add_session(SessionMeta(athlete=f"Solo {worker}", session_id=f"solo{worker}s{week}",
                                                started_at=started_at), steps[week])
    """)
    tables = tmp_path / "steps.pickle"  # simulated once, here
    tables.write_bytes(pickle.dumps([_steps(week) for week in range(3)]))
    with History(db):
        pass  # the layout exists: the children race on the imports, not on creating it
    workers = [subprocess.Popen([sys.executable, "-c", child, str(db), str(worker), str(tables)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for worker in range(3)]
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
    with History(db) as history:
        assert history.athletes() == ["Solo 0", "Solo 1", "Solo 2", "Team Mate"]
        assert sorted(r.session_id for r in history.sessions("team mate")) == [
            f"w{worker}s{week}" for worker in range(3) for week in range(3)]
        assert all(len(history.sessions(f"Solo {worker}")) == 3 for worker in range(3))
        assert "Team Mate: 9 sessions" in history_text(history, "Team Mate")
    for worker in range(3):
        assert _count(db, "steps", f"w{worker}s2") == len(_steps(2))


def test_history_text_with_few_sessions_and_unknown_athletes(db):
    with History(db) as history:
        path = history.path
        with pytest.raises(InputError, match="no sessions for athlete 'Ana'; known: none"):
            history_text(history, "Ana")
        history.add_session(_meta(week=0), _steps(0))
        history.add_session(_meta(week=0, started_at="2024-01-08T19:00:00+02:00"), _steps(1))
        history.add_session(_meta("Bo Lee"), _steps(2))
        text = history_text(history, "Ana Silva")
        assert history.sessions("Ana Silva")[1].started_at == "2024-01-08T17:00:00.000000+00:00"  # kept in UTC
        with pytest.raises(InputError) as error:
            history_text(history, "Cy")
    assert "2024-01-08 09:30" in text and "2024-01-08 17:00" in text  # two the same day: with the time
    assert "needs at least 4 sessions with reps (there are 2)" in text
    assert str(error.value) == f"{path}: no sessions for athlete 'Cy'; known: Ana Silva, Bo Lee"


def test_data_dir_follows_gaitmon_home_then_xdg_then_the_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("GAITMON_HOME", str(tmp_path / "gm"))
    assert default_db_path() == tmp_path / "gm" / "history.sqlite"
    with History() as history:
        history.add_session(_meta(), _steps(0))
    assert (tmp_path / "gm" / "history.sqlite").is_file()

    monkeypatch.delenv("GAITMON_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "gaitmon"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "gaitmon"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert default_data_dir() == tmp_path / "home" / "Library" / "Application Support" / "gaitmon"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert default_data_dir() == tmp_path / "local" / "gaitmon"


def test_files_that_are_not_a_gaitmon_history_are_refused(tmp_path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"t_s,side,ax\n" * 500)
    with pytest.raises(InputError, match="not a gaitmon history database"):
        History(garbage)
    assert garbage.read_bytes() == b"t_s,side,ax\n" * 500

    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE photos (name TEXT)")
    db.close()
    with pytest.raises(InputError, match="another program"):
        History(foreign)

    newer = tmp_path / "newer.sqlite"
    History(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(InputError, match="newer than this gaitmon understands"):
        History(newer)


def test_a_corrupted_history_is_reported_not_a_traceback(tmp_path):
    path = tmp_path / "history.sqlite"
    with History(path) as history:
        history.add_session(_meta(), _steps(0))
        session_id = history.sessions("Ana Silva")[0].session_id
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    data[2 * 4096:] = bytes(range(256)) * ((len(data) - 2 * 4096) // 256) + b"\0" * (len(data) % 256)
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="not a gaitmon history database, or it is corrupted"):
        with History(path) as history:
            history.steps(session_id)


def test_an_import_that_fails_half_way_leaves_the_history_as_before(db, monkeypatch):
    path = db
    kept, failing = _meta(week=0), _meta(week=1)
    original = History._insert_rows

    def insert_then_fail(self, statement, session_id, rows):
        original(self, statement, session_id, rows)  # the session row and its reps are in by now
        raise RuntimeError("power cut")

    with History(path) as history:
        history.add_session(kept, _steps(0))
        monkeypatch.setattr(History, "_insert_rows", insert_then_fail)
        with pytest.raises(RuntimeError, match="power cut"):
            history.add_session(failing, _steps(1))
        with pytest.raises(RuntimeError, match="power cut"):  # a failed update keeps the old version
            history.add_session(kept, _steps(2))
        monkeypatch.undo()
        assert [r.session_id for r in history.sessions("Ana Silva")] == [kept.session_id]
        assert _same_steps(history.steps(kept.session_id), _steps(0))
    for table in ("sessions", "reps", "steps"):
        assert _count(path, table, failing.session_id) == 0
    with History(path) as history:  # and the same session imports cleanly afterwards
        assert history.add_session(failing, _steps(1)) == "added"


def test_a_process_killed_mid_import_leaves_the_history_as_before(tmp_path):
    """A real crash: the importing process dies (os._exit) after writing all the step rows, before
    the commit, with a one-page cache so the uncommitted rows have been spilled into the WAL."""
    path = tmp_path / "history.sqlite"
    with History(path) as history:
        history.add_session(_meta(week=0), _steps(0))
    child = textwrap.dedent(f"""
        import os, sys
        from gaitmon.analysis.steps import Step
        from gaitmon.session.history import History, _INSERT_STEP
        from gaitmon.session.meta import SessionMeta
        original = History._insert_rows
        def insert_then_die(self, statement, session_id, rows):
            original(self, statement, session_id, rows)
            if statement == _INSERT_STEP:
                os._exit(9)
        History._insert_rows = insert_then_die
        history = History({str(path)!r})
        history._store.execute("PRAGMA cache_size = 1")
        steps = [Step(side="left", ic_s=float(i), to_s=i + 0.1, contact_s=0.1, flight_s=0.12, step_s=0.22,
                      step_hz=4.5, swing_s=0.3, swing_peak_rad_s=20.0, push_force_bw=3.0, flight_source="measured")
                 for i in range(2000)]
        history.add_session(SessionMeta(athlete="Ana Silva", session_id="crashed"), steps)
    """)
    done = subprocess.run([sys.executable, "-c", child], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 9, done.stderr
    assert (tmp_path / "history.sqlite-wal").stat().st_size > 100_000  # the uncommitted rows reached the file
    with History(path) as history:
        assert len(history.sessions("Ana Silva")) == 1
        assert history.steps("crashed") == []
        assert _same_steps(history.steps(history.sessions("Ana Silva")[0].session_id), _steps(0))
    assert _count(path, "steps", "crashed") == 0


def test_values_are_bound_not_formatted(db):
    """Names with quotes and SQL in them are stored as text."""
    name = "O'Brien\"; DROP TABLE sessions; --"
    with History(db) as history:
        history.add_session(_meta(name), _steps(0), source_path="it's here")
        assert history.athletes() == [name]
        assert history.sessions(name.upper())[0].source_path == "it's here"



def test_the_history_command_takes_the_database_by_db_or_gaitmon_db(db, tmp_path):
    """``gaitmon history --db`` names a SQLite file or a postgresql:// URI; so does $GAITMON_DB."""
    with History(db) as history:
        history.add_session(_meta(week=0), _steps(0))
        location = history.path
    for args, env in (([f"--db={db}"], {}), ([], {"GAITMON_DB": str(db)})):
        done = subprocess.run([sys.executable, "-m", "gaitmon", "history", "ana silva", *args], cwd=REPO,
                              capture_output=True, text=True, timeout=60, env={**os.environ, **env})
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"Ana Silva: 1 session in {location}\n")


def test_postgresql_databases_that_are_not_a_gaitmon_history_are_refused(postgres_server, tmp_path):
    import psycopg

    foreign = postgres_server.new_database()
    with psycopg.connect(foreign, autocommit=True) as other:
        other.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(InputError, match="not a gaitmon history database"):
        History(foreign)
    newer = postgres_server.new_database()
    History(newer).close()
    with psycopg.connect(newer, autocommit=True) as other:
        other.execute("UPDATE gaitmon_history SET version = version + 1")
    with pytest.raises(InputError, match="is newer than this gaitmon understands"):
        History(newer)
    nowhere = f"postgresql://someone:secret@/gaitmon?host={tmp_path}"
    with pytest.raises(InputError) as error:
        History(nowhere)
    assert str(error.value).startswith("postgresql://someone:***@/gaitmon?host=") and "secret" not in str(error.value)
    assert "\n" not in str(error.value)


def test_a_reader_does_not_wait_for_a_writer(db):
    """Opening the history and reading it while another connection holds the writers' turn."""
    import threading

    with History(db) as history:
        history.add_session(_meta(week=0), _steps(0))
    read = []

    def reader():
        with History(db) as other:
            read.append(history_text(other, "Ana Silva"))

    with History(db) as writer, writer._transaction():
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        thread.join(timeout=20)
        assert read and read[0].startswith("Ana Silva: 1 session")
