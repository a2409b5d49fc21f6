"""Per-athlete calibration end to end: stored in the history (and migrated into an old one), listed by
``gaitmon history``, applied by ``gaitmon analyze`` / ``replay`` and the dashboard's model — only when saved.

Every history here is a file in a temporary folder named with ``--db``: the session-wide data
directory of the other tests never gets a calibration.
"""

from __future__ import annotations

import csv
import math
import sqlite3
from pathlib import Path

import pytest

from gaitmon.analysis.calibration import Calibration, CalibrationEntry
from gaitmon.analysis.steps import STEP_COLUMNS
from gaitmon.dashboard import EmulatedSource, Engine, ReplaySource
from gaitmon.session.history import SCHEMA_VERSION, History, history_text, saved_calibration
from gaitmon.session.meta import SessionMeta
from gaitmon.sim import write_session
from tests.conftest import simulated
from tests.integration.test_cli import gaitmon

RAW_COLUMNS = ("contact_raw_s", "flight_raw_s", "step_raw_s", "push_force_raw_bw", "calibration")


def _calibration(athlete: str = "Cal Athlete", day: int = 1, contact_bias: float = 0.008) -> Calibration:
    return Calibration(athlete, f"2025-03-{day:02d}T10:00:00+00:00", f"OptoJump run{day}.csv", (
        CalibrationEntry("contact", "all", contact_bias, 0.012, 120),
        CalibrationEntry("flight", "all", -0.006, 0.011, 118),
        CalibrationEntry("contact", "top_speed", contact_bias / 2, 0.010, 40),
    ))


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_calibrations_round_trip_newest_first_and_replace_by_date(tmp_path):
    with History(tmp_path / "h.sqlite") as history:
        first = history.add_calibration(_calibration(day=1))
        assert first == "2025-03-01T10:00:00.000000+00:00"
        history.add_calibration(_calibration(day=5, contact_bias=0.010))
        history.add_calibration(_calibration(athlete=" cal athlete ", day=1, contact_bias=0.009))  # same one again
        got = history.calibrations("CAL ATHLETE")
        assert [c.created_at[:10] for c in got] == ["2025-03-05", "2025-03-01"]
        assert history.calibration("cal athlete") == got[0]
        assert got[0] == Calibration("Cal Athlete", "2025-03-05T10:00:00.000000+00:00", "OptoJump run5.csv",
                                     _calibration(day=5, contact_bias=0.010).entries)
        assert got[1].bias("contact") == 0.009
        assert history.calibrations("nobody") == [] and history.calibration("nobody") is None
        assert history.athletes() == ["Cal Athlete"]  # an athlete with calibrations only is known
        nan_sd = Calibration("Bo", "2025-03-01T10:00:00+00:00", "x",
                             (CalibrationEntry("flight", "all", 0.001, math.nan, 11),))
        history.add_calibration(nan_sd)
        assert math.isnan(history.calibration("bo").entries[0].sd_s)
        with pytest.raises(ValueError, match="athlete name"):
            history.add_calibration(Calibration(" ", "2025-03-01", "x", nan_sd.entries))
        # importing a session of someone else does not forget the athletes that only have calibrations
        steps_meta = SessionMeta(athlete="Other", started_at="2025-03-02T09:00:00+00:00")
        history.add_session(steps_meta, [])
        assert history.athletes() == ["Bo", "Cal Athlete", "Other"]


def test_an_old_history_is_migrated_and_keeps_its_sessions(tmp_path):
    path = tmp_path / "old.sqlite"
    with History(path) as history:
        history.add_session(SessionMeta(athlete="Cal Athlete", started_at="2025-02-01T09:00:00+00:00"), [])
    with sqlite3.connect(path) as db:  # what gaitmon wrote before calibrations existed: layout 1
        for table in ("calibrations", "session_assessments", "session_results"):  # those of layouts 2 and 3
            db.execute(f"DROP TABLE {table}")
        db.execute("PRAGMA user_version = 1")
    db.close()
    assert saved_calibration("Cal Athlete", path) is None  # a look-up migrates it too
    with History(path) as history:
        assert [r.athlete for r in history.sessions("cal athlete")] == ["Cal Athlete"]
        history.add_calibration(_calibration())
        assert history.calibration("Cal Athlete") is not None
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    db.close()


def test_a_look_up_creates_no_history(tmp_path):
    assert saved_calibration("Cal Athlete", tmp_path / "none.sqlite") is None
    assert saved_calibration("", tmp_path / "none.sqlite") is None
    assert not (tmp_path / "none.sqlite").exists()


def test_history_lists_the_calibrations_and_which_is_in_use(tmp_path):
    db = tmp_path / "h.sqlite"
    with History(db) as history:
        history.add_calibration(_calibration(day=1))
        history.add_calibration(_calibration(day=5))
        text = history_text(history, "cal athlete")  # no sessions: the calibrations alone
        history.add_session(SessionMeta(athlete="Cal Athlete", started_at="2025-03-02T09:00:00+00:00"), [])
        with_sessions = history_text(history, "cal athlete")
    lines = text.splitlines()
    assert lines[0].startswith("Cal Athlete: no sessions")
    in_use = next(line for line in lines if "in use" in line)
    assert "2025-03-05 10:00" in in_use and "n = 120" in in_use and "OptoJump run5.csv" in in_use
    assert "contact \u22128.0 ms, flight +6.0 ms" in in_use
    assert sum("2025-03-01 10:00" in line for line in lines) == 1
    assert "1 session" in with_sessions and "in use  2025-03-05" in with_sessions
    listed = gaitmon("history", "Cal Athlete", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    assert "in use  2025-03-05" in listed.stdout


@pytest.fixture(scope="module")
def imu_csv(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cal-session")
    write_session(simulated("balanced", seed=3, rate=200.0, n_reps=2), folder)
    return folder / "imu.csv"


def test_analyze_applies_a_saved_calibration_and_says_so(imu_csv, tmp_path):
    db = tmp_path / "h.sqlite"
    plain = gaitmon("analyze", str(imu_csv), "--athlete", "Cal Athlete", "--db", str(db), "--out", str(tmp_path / "a"))
    assert plain.returncode == 0, plain.stderr
    assert not db.exists()  # looking for a calibration creates no history
    with History(db) as history:
        created = history.add_calibration(_calibration())
    calibrated = gaitmon("analyze", str(imu_csv), "--athlete", "cal athlete", "--db", str(db), "--out",
                         str(tmp_path / "b"))
    off = gaitmon("analyze", str(imu_csv), "--athlete", "Cal Athlete", "--db", str(db), "--no-calibration",
                  "--out", str(tmp_path / "c"))
    other = gaitmon("analyze", str(imu_csv), "--athlete", "Someone Else", "--db", str(db), "--out", str(tmp_path / "d"))
    assert calibrated.returncode == off.returncode == other.returncode == 0, calibrated.stderr

    sentence = _calibration().describe()
    assert "contact and flight times corrected by the calibration of 2025-03-01 (n = 120, OptoJump run1.csv)" \
        in calibrated.stdout
    for result in (plain, off, other):
        assert "corrected" not in result.stdout
    raw_html = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    html = (tmp_path / "b" / "report.html").read_text(encoding="utf-8")
    assert "corrected by the calibration" not in raw_html
    assert sentence.split(":")[0] in html and "contact \u22128.0 ms, flight +6.0 ms" in html

    raw, corrected = _rows(tmp_path / "a" / "steps.csv"), _rows(tmp_path / "b" / "steps.csv")
    assert tuple(raw[0]) == STEP_COLUMNS
    assert tuple(corrected[0]) == STEP_COLUMNS + RAW_COLUMNS
    for name in ("c", "d"):
        assert (tmp_path / name / "steps.csv").read_bytes() == (tmp_path / "a" / "steps.csv").read_bytes()
    assert len(raw) == len(corrected)
    for before, after in zip(raw, corrected):
        assert after["calibration"] == created
        assert (after["ic_s"], after["to_s"], after["swing_peak_rad_s"]) == \
            (before["ic_s"], before["to_s"], before["swing_peak_rad_s"])
        for column, raw_column in (("contact_s", "contact_raw_s"), ("flight_s", "flight_raw_s"),
                                   ("step_s", "step_raw_s"), ("push_force_bw", "push_force_raw_bw")):
            assert after[raw_column] == before[column]
        if before["contact_s"]:
            shift = float(before["contact_s"]) - float(after["contact_s"])
            assert shift == pytest.approx(0.008, abs=2e-6) or shift == pytest.approx(0.004, abs=2e-6)
        else:
            assert after["contact_s"] == ""
        if before["flight_s"]:
            assert float(after["flight_s"]) - float(before["flight_s"]) == pytest.approx(0.006, abs=2e-6)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A short emulated session of "Cal Athlete", recorded on a virtual clock (not in any history)."""
    source = EmulatedSource("gaitmon_diy", "balanced", seed=0, rate_hz=200.0, realtime=False,
                            sim_options={"n_reps": 1, "recovery_s": 4.0})
    engine = Engine({"Cal Athlete": source}, sessions_dir=tmp_path_factory.mktemp("sessions"), history_db=False)
    engine.run_to_end()
    return Path(engine.snapshot("Cal Athlete").recording.folder)


def test_replay_and_the_dashboard_model_apply_it_too(recorded, tmp_path):
    db = tmp_path / "h.sqlite"
    with History(db) as history:
        history.add_calibration(_calibration())
    snaps = {}
    for name, history_db in (("raw", False), ("calibrated", db)):
        engine = Engine({"Cal Athlete": ReplaySource(recorded, speed=None)}, history_db=history_db)
        engine.run_to_end()
        snaps[name] = engine.snapshot("Cal Athlete")
    assert snaps["raw"].calibration == "" and snaps["calibrated"].calibration == _calibration().describe()
    for side, step in snaps["raw"].latest.items():
        shown = snaps["calibrated"].latest[side]
        assert shown.ic_s == step.ic_s and shown.contact_s < step.contact_s and shown.flight_s > step.flight_s

    replayed = gaitmon("replay", str(recorded), "--headless", "--db", str(db), "--out", str(tmp_path / "r"))
    assert replayed.returncode == 0, replayed.stderr
    assert "corrected by the calibration of 2025-03-01" in replayed.stdout
    assert tuple(_rows(tmp_path / "r" / "steps.csv")[0])[-len(RAW_COLUMNS):] == RAW_COLUMNS
    off = gaitmon("replay", str(recorded), "--headless", "--db", str(db), "--no-calibration", "--out",
                  str(tmp_path / "o"))
    assert off.returncode == 0 and tuple(_rows(tmp_path / "o" / "steps.csv")[0]) == STEP_COLUMNS


def test_a_calibrated_live_session_end_stores_the_detected_steps(recorded, tmp_path):
    from gaitmon.engine.finish import finish_session
    from gaitmon.engine.load import load

    db = tmp_path / "h.sqlite"
    with History(db) as history:
        history.add_calibration(_calibration())
    loaded = load(recorded)
    printed: list[str] = []
    result = finish_session(tmp_path / "out", loaded.live, loaded.samples, loaded.meta, saved=True, history_db=db,
                            print_fn=printed.append)
    assert result.calibration is not None and any("corrected by the calibration" in line for line in printed)
    with History(db) as history:
        stored = history.steps(loaded.meta.session_id)
    assert repr(stored) == repr(loaded.result.steps) != repr(result.steps)  # NaN fields: compared as text
