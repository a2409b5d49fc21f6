"""`gaitmon validate` end to end: a reference built from simulated truth, bad references, outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gaitmon.analysis.steps import build_steps
from gaitmon.cli import main
from gaitmon.engine.analyze import analyze_samples
from gaitmon.io import read_table_csv, write_imu_csv
from gaitmon.validation.evaluation import match_times
from tests.conftest import simulated

TRUE_OFFSET_S = 731.25  # the reference's clock started 731.25 s after gaitmon's session clock... negated below
RATE_HZ = 500.0


@pytest.fixture(scope="module")
def session_and_reference(tmp_path_factory):
    """A simulated session as CSV, and an OptoJump-like step table from its truth: another clock,
    1 ms jitter, a corridor of one rep from its 4th contact into top speed, two contacts missed."""
    folder = tmp_path_factory.mktemp("validate")
    session = simulated("balanced", seed=5, rate=RATE_HZ, n_reps=3, athlete_seed=11)
    imu = folder / "imu.csv"
    write_imu_csv(imu, session.samples)
    truth = build_steps([e for e in session.events if e.kind in ("IC", "TO")], sides=["left", "right"])
    result = analyze_samples(session.samples)
    rep = result.balance.reps[1]
    start, end = rep.steps[3].ic_s, rep.steps[min(len(rep.steps) - 1, 24)].ic_s
    corridor = [s for s in truth if start - 1e-6 <= s.ic_s <= end + 1e-6]
    rng = np.random.default_rng(0)
    kept = [s for k, s in enumerate(corridor) if k not in (5, 12)]
    lines = ["time_s,foot,contact_ms,flight_ms"]
    ref_ic = []
    for s in kept:
        t = round(s.ic_s - TRUE_OFFSET_S + rng.normal(0, 0.001), 3)
        ref_ic.append(t)
        lines.append(f"{t:.3f},{s.side[0].upper()},{s.contact_s * 1e3:.0f},{s.flight_s * 1e3:.0f}")
    reference = folder / "optojump.csv"
    reference.write_text("\n".join(lines) + "\n")
    return folder, imu, reference, result, kept, np.array(ref_ic)


def test_round_trip_recovers_offset_and_agrees_with_a_direct_computation(session_and_reference, tmp_path, capsys):
    _, imu, reference, result, kept, ref_ic = session_and_reference
    out = tmp_path / "out"
    assert main(["validate", str(imu), str(reference), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    offset = float(printed.split("offset ")[1].split(" s")[0])
    # Direct: pair the reference (put on gaitmon's clock with the true offset) with gaitmon's steps.
    det = sorted((s for s in result.steps), key=lambda s: s.ic_s)
    errors, contact_diffs = [], []
    for side in ("left", "right"):
        r_idx = [k for k, s in enumerate(kept) if s.side == side]
        d_side = [s for s in det if s.side == side]
        pairs = match_times([ref_ic[k] + TRUE_OFFSET_S for k in r_idx], [s.ic_s for s in d_side], 0.05)
        for a, b in pairs:
            errors.append(d_side[b].ic_s - (ref_ic[r_idx[a]] + TRUE_OFFSET_S))
            ref_contact = round(kept[r_idx[a]].contact_s * 1e3) / 1e3
            if math.isfinite(d_side[b].contact_s):
                contact_diffs.append((d_side[b].contact_s - ref_contact) * 1e3)
    # The offset found = the true one plus gaitmon's median IC error: within one sample.
    assert abs(offset - (TRUE_OFFSET_S + np.median(errors))) <= 1 / RATE_HZ
    summary = {(r["metric"], r["phase"]): r for r in read_table_csv(out / "summary.csv")}
    contact = summary[("contact", "all")]
    assert contact["n_matched"] == len(contact_diffs) == len(kept)
    assert contact["bias"] == pytest.approx(np.mean(contact_diffs), abs=1e-3)
    assert contact["loa_high"] - contact["loa_low"] == pytest.approx(2 * 1.96 * np.std(contact_diffs, ddof=1), abs=1e-3)
    assert summary[("ic", "all")]["missed"] == 0
    assert summary[("ic", "all")]["extra"] == 2  # the two contacts the reference missed
    rows = read_table_csv(out / "validation.csv")
    assert sum(r["status"] == "matched" for r in rows) == len(kept)
    assert sum(r["status"] == "extra" for r in rows) == 2
    html = (out / "validation.html").read_text()
    assert "Bland–Altman" in html and "Aligned contact sequences" in html and "<script" not in html


def test_analyze_output_folder_is_a_gaitmon_input(session_and_reference, tmp_path, capsys):
    _, imu, reference, _, kept, _ = session_and_reference
    analyzed = tmp_path / "analyzed"
    assert main(["analyze", str(imu), "--out", str(analyzed), "--no-calibration"]) == 0
    assert main(["validate", str(analyzed), str(reference), "--out", str(tmp_path / "v")]) == 0
    rows = read_table_csv(tmp_path / "v" / "summary.csv")
    assert next(r for r in rows if r["metric"] == "contact" and r["phase"] == "all")["n_matched"] == len(kept)
    capsys.readouterr()


def test_save_calibration_stores_the_bias_in_the_history(session_and_reference, tmp_path, capsys):
    _, imu, reference, _, _, _ = session_and_reference
    db = tmp_path / "history.sqlite"
    assert main(["validate", str(imu), str(reference), "--out", str(tmp_path / "v"), "--athlete", "Ana",
                 "--save-calibration", "--db", str(db)]) == 0
    assert "saved the calibration of Ana" in capsys.readouterr().out
    assert main(["history", "Ana", "--db", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "alibration" in listing and "step table" in listing


@pytest.mark.parametrize("content, message", [
    ("contact_ms,flight_ms\n", "header only"),
    ("a;b\n1;2\n", "not a reference layout gaitmon reads"),
    ("time_s,foot,contact_ms,flight_ms\n0.0,L,110,120\n0.23,R,10", "looks truncated"),
    ("time_s,foot,contact_ms,flight_ms\n" + "".join(f"{0.77 * k:.2f},{'LR'[k % 2]},300,470\n" for k in range(12)),
     "cannot align"),
])
def test_bad_references_exit_2_with_one_line_and_write_nothing(session_and_reference, tmp_path, capsys, content,
                                                               message):
    _, imu, _, _, _, _ = session_and_reference
    reference = tmp_path / "ref.csv"
    reference.write_text(content)
    out = tmp_path / "out"
    assert main(["validate", str(imu), str(reference), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(reference) in err and message in err
    assert not out.exists()


def test_a_calibrated_analysis_is_validated_on_its_raw_values(session_and_reference, tmp_path, capsys):
    _, imu, reference, _, _, _ = session_and_reference
    db = tmp_path / "history.sqlite"
    first = tmp_path / "first"
    assert main(["validate", str(imu), str(reference), "--out", str(first), "--athlete", "Ben",
                 "--save-calibration", "--db", str(db)]) == 0
    analyzed = tmp_path / "analyzed"
    assert main(["analyze", str(imu), "--athlete", "Ben", "--out", str(analyzed), "--db", str(db)]) == 0
    assert "contact_raw_s" in (analyzed / "steps.csv").read_text().splitlines()[0]
    again = tmp_path / "again"
    assert main(["validate", str(analyzed), str(reference), "--out", str(again)]) == 0
    capsys.readouterr()

    def contact(folder):
        return next(r for r in read_table_csv(folder / "summary.csv") if r["metric"] == "contact" and r["phase"] == "all")

    assert contact(again)["bias"] == pytest.approx(contact(first)["bias"], abs=1e-3)  # steps.csv keeps µs
    assert contact(again)["n_matched"] == contact(first)["n_matched"]


def test_recorded_session_folder_against_a_reference_on_another_clock(tmp_path, capsys):
    """A session recorded through the BLE path (emulated sensors, a disconnection) is validated against
    its simulated truth, which runs on the simulator's clock, not the session's: the alignment finds it."""
    from gaitmon.engine.acquisition import run_live
    from gaitmon.sources.virtual import Faults, emulated_pair

    pair = emulated_pair("gaitmon_diy", "balanced", seed=4, rate_hz=500.0,
                         faults={"left": Faults(seed=1, disconnect_at_s=21.0, away_s=1.0, drop=0.01)})
    folder = tmp_path / "session"
    assert run_live({"left": "L", "right": "R"}, folder, athlete="Cleo", emulated=pair, duration_s=45.0,
                    virtual_clock=True, history_db=tmp_path / "h.sqlite", print_fn=lambda line: None) == 0
    truth = build_steps([e for e in pair.session.events if e.kind in ("IC", "TO")], sides=["left", "right"])
    kept = [s for s in truth if 8.0 <= s.ic_s <= 30.0 and math.isfinite(s.contact_s) and math.isfinite(s.flight_s)]
    reference = tmp_path / "plates.csv"
    reference.write_text("t_s,side,event\n" + "".join(
        f"{t:.4f},{s.side},{kind}\n" for s in kept for t, kind in ((s.ic_s, "IC"), (s.to_s, "TO"))))
    out = tmp_path / "v"
    assert main(["validate", str(folder), str(reference), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "contact sequence" in printed
    contact = next(r for r in read_table_csv(out / "summary.csv") if r["metric"] == "contact" and r["phase"] == "all")
    assert contact["n_matched"] >= 0.9 * len(kept)
    assert abs(contact["bias"]) < 20 and contact["mae"] < 25


def test_bids_export_is_a_gaitmon_input(session_and_reference, tmp_path, capsys):
    _, imu, reference, _, kept, _ = session_and_reference
    bids = tmp_path / "bids"
    assert main(["export", str(imu), "--bids", str(bids), "--athlete", "Dana"]) == 0
    assert main(["validate", str(bids), str(reference), "--out", str(tmp_path / "v")]) == 0
    capsys.readouterr()
    contact = next(r for r in read_table_csv(tmp_path / "v" / "summary.csv")
                   if r["metric"] == "contact" and r["phase"] == "all")
    assert contact["n_matched"] == len(kept)
