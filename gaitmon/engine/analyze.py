"""Analysing samples and writing the results: events, steps, reps, flags (+ gaps, health, report)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from gaitmon.analysis import FLAG_COLUMNS, REP_COLUMNS, strength_balance
from gaitmon.analysis.calibration import CALIBRATED_STEP_COLUMNS, calibrated_step_rows
from gaitmon.analysis.result import AnalysisResult
from gaitmon.analysis.steps import STEP_COLUMNS, build_steps
from gaitmon.io import write_events_csv, write_table_csv
from gaitmon.report import write_report
from gaitmon.session.history import saved_calibration
from gaitmon.session.meta import SessionMeta
from gaitmon.stream.live import LiveSession, SensorStatus
from gaitmon.stream.pipeline import UnitStatistics, detect_events, diagnose_recording, no_steps_seen, units_problem


def analyze_samples(samples, placement: str = "shank", source: Path | str = "<samples>") -> AnalysisResult:
    """Detect events and build steps for in-memory samples (side → (t, x[n, 6]))."""
    traces: dict = {}
    events = detect_events(samples, placement=placement, traces=traces)
    steps = build_steps(events, sides=samples.keys())
    return AnalysisResult(Path(source), placement, sorted(samples), events, steps, strength_balance(steps),
                          traces=traces)


def result_problem(result: AnalysisResult, samples, statistics: UnitStatistics | None = None) -> str | None:
    """Why this analysis must not be written (one line, without the file name); None when it can be.

    Without steps: the first reason :func:`gaitmon.stream.pipeline.diagnose_recording` finds (too short,
    too little motion, units), else what the recording holds
    (:func:`gaitmon.stream.pipeline.no_steps_seen`). With steps, samples whose units look wrong (g, deg/s)
    are refused all the same: every metric would be off by a constant factor. ``statistics``: the
    samples' :class:`~gaitmon.stream.pipeline.UnitStatistics`, when known.
    """
    if not result.steps:
        return diagnose_recording(samples) or no_steps_seen(samples, result.placement)
    return units_problem(samples, statistics)


def with_saved_calibration(result: AnalysisResult, athlete: str, history_db: Path | None | bool) -> AnalysisResult:
    """``result`` corrected by the athlete's newest calibration in the history (``history_db``; None:
    the data directory's; False: none), or ``result`` itself when there is none (opt-in: only a
    calibration saved by ``gaitmon validate --save-calibration`` is ever applied)."""
    calibration = None if isinstance(history_db, bool) else saved_calibration(athlete, history_db)
    return result if calibration is None else result.calibrated(calibration)


def write_outputs(result: AnalysisResult, out_dir: Path) -> list[Path]:
    """Write ``events.csv``, ``steps.csv``, ``reps.csv`` and ``flags.csv`` into ``out_dir``.

    A calibrated result's ``steps.csv`` has the corrected values in the usual columns, then the raw
    ones and the calibration (:data:`~gaitmon.analysis.calibration.CALIBRATED_STEP_COLUMNS`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in ("events.csv", "steps.csv", "reps.csv", "flags.csv")]
    write_events_csv(paths[0], result.events)
    if result.calibration is None:
        write_table_csv(paths[1], [s.as_row() for s in result.steps], STEP_COLUMNS)
    else:
        write_table_csv(paths[1], calibrated_step_rows(result.steps, result.raw_steps, result.calibration),
                        CALIBRATED_STEP_COLUMNS)
    write_table_csv(paths[2], result.balance.rep_rows(), list(REP_COLUMNS))
    write_table_csv(paths[3], result.balance.flag_rows(), list(FLAG_COLUMNS))
    result.written = paths
    return result.written


GAP_COLUMNS = ("sensor", "t_start", "t_end", "lost_samples", "lost_packets", "cause", "exact")


def live_result(live: LiveSession, source: Path | str) -> AnalysisResult:
    """The analysis of everything a live (or replayed) session has seen so far (without traces:
    the session keeps none; a replay's spool has them)."""
    steps = live.steps()
    return AnalysisResult(Path(source), live.placement, sorted(live.legs), sorted(live.events), steps,
                          strength_balance(steps))


def write_session_outputs(out_dir: Path, result: AnalysisResult, live: LiveSession | None = None,
                          samples: dict | None = None, meta: SessionMeta | None = None) -> list[Path]:
    """The ``analyze`` tables, ``gaps.csv`` and ``health.csv`` of a live (or replayed) session, and,
    given samples, ``report.html``."""
    written = write_outputs(result, out_dir)
    if live is not None:
        gaps, health = out_dir / "gaps.csv", out_dir / "health.csv"
        write_table_csv(gaps, [asdict(g) for g in live.gaps], list(GAP_COLUMNS))
        write_table_csv(health, [s.as_dict() for s in live.health().values()], list(SensorStatus.__dataclass_fields__))
        written += [gaps, health]
    if samples:
        gap_marks = live.gaps if live is not None else ()
        written.append(write_report(out_dir / "report.html", result, samples, meta=meta, gaps=gap_marks))
    result.written = written
    return written


def outputs_text(written: list[Path]) -> list[str]:
    """Where the outputs went, one path a line: the tables, then ``Report: …/report.html`` last."""
    tables = [path for path in written if path.suffix != ".html"]
    reports = [path for path in written if path.suffix == ".html"]
    return (["Tables:"] + [f"  {path}" for path in tables] if tables else []) + [f"Report: {path}" for path in reports]
