"""``gaitmon validate``: gaitmon's steps against the athlete's own reference system, end to end.

For each (gaitmon input, reference) pair: gaitmon's steps come from a session folder, BIDS export or
samples CSV (analysed now, raw: never a calibrated result) or from an ``analyze`` output folder
(``steps.csv`` + ``events.csv``); the reference is read by
:func:`gaitmon.validation.reference.read_reference`; the clocks are aligned
(:mod:`gaitmon.validation.alignment`) and the steps compared (:mod:`gaitmon.validation.comparison`).
Several pairs pool into one summary (each aligned on its own). Everything is computed before the
first byte is written, and each output file is written whole (temporary file, then renamed), so a
refusal or a crash leaves nothing half-written.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from gaitmon.analysis import strength_balance
from gaitmon.analysis.steps import Step
from gaitmon.errors import InputError, log
from gaitmon.io import read_events_csv, read_table_csv, write_table_csv
from gaitmon.validation.accuracy import default_tolerance_s
from gaitmon.validation.alignment import AlignmentError, align, evaluate_offset
from gaitmon.validation.comparison import METRICS, SUMMARY_COLUMNS, GaitmonSide, Validation, compare, summary_rows
from gaitmon.validation.page import render_page
from gaitmon.validation.reference import FORCE_THRESHOLD_N, read_reference

ANALYZE_OUTPUT = "steps.csv"

def _value_columns(metric) -> tuple[str, str, str]:
    """Column names of gaitmon's value, the reference's and their difference. Event times are clock
    times in s (gaitmon's clock, the reference aligned to it); durations and differences in the metric's unit."""
    unit = "s" if metric.kind == "event" else metric.unit.lower()
    diff = metric.unit.lower()
    return f"{metric.key}_gaitmon_{unit}", f"{metric.key}_reference_{unit}", f"{metric.key}_diff_{diff}"


PAIR_COLUMNS = ("recording", "status", "reference_at", "side", "rep", "phase",
                *(name for m in METRICS for name in _value_columns(m)))


def load_gaitmon(path: Path, athlete: str = "", placement: str = "shank") -> GaitmonSide:
    """gaitmon's steps, events and reps of ``path`` (module docstring)."""
    path = Path(path)
    if path.is_dir() and (path / ANALYZE_OUTPUT).is_file() and not (path / "session.json").exists():
        steps = [Step.from_row(_raw(row)) for row in read_table_csv(path / ANALYZE_OUTPUT)]
        events_path = path / "events.csv"
        events = read_events_csv(events_path) if events_path.is_file() else None
        return GaitmonSide(path, steps, events, strength_balance(steps).reps, athlete)
    from gaitmon.engine.load import load
    from gaitmon.stream.pipeline import estimate_sample_rate

    loaded = load(path, athlete=athlete, placement=placement)
    for problem in loaded.problems:
        log.info(problem)
    result = loaded.result
    rates = [estimate_sample_rate(t) for t, _ in loaded.samples.values() if len(t) > 1]
    return GaitmonSide(path, result.steps, result.events, result.balance.reps,
                       loaded.meta.athlete or athlete, min(rates) if rates else math.nan)


def _raw(row: dict) -> dict:
    """A ``steps.csv`` row as measured: a calibrated table's raw columns replace the corrected ones
    (a validation compares what gaitmon measured, never a correction from an earlier validation)."""
    from gaitmon.analysis.calibration import RAW_COLUMNS

    if not all(name in row for name in RAW_COLUMNS):
        return row
    raw = dict(row)
    for raw_name, name in RAW_COLUMNS.items():
        raw[name] = row[raw_name]
    step = raw.get("step_s")
    raw["step_hz"] = 1.0 / step if isinstance(step, float) and step > 0 else math.nan
    return raw


def validate(pairs: list[tuple[Path, Path]], athlete: str = "", placement: str = "shank",
             tolerance_s: float | None = None, offset_s: float | None = None, same_clock: bool = False,
             force_threshold_n: float = FORCE_THRESHOLD_N) -> Validation:
    """Compare every (gaitmon input, reference) pair; InputError (one line, naming the file) when a
    reference cannot be read or aligned, or gaitmon found no steps."""
    tolerance = default_tolerance_s(placement) if tolerance_s is None else tolerance_s
    recordings = []
    for gaitmon_path, reference_path in pairs:
        reference = read_reference(reference_path, force_threshold_n)
        side = load_gaitmon(gaitmon_path, athlete, placement)
        if not side.steps:
            raise InputError(gaitmon_path, None, "gaitmon found no steps in this recording: nothing to validate")
        try:
            if same_clock or offset_s is not None:
                method, known = ("same clock", 0.0) if same_clock or offset_s is None else ("given", offset_s)
                alignment = evaluate_offset(reference.steps, side.steps, known, tolerance, method)
                if alignment.n_matched == 0:
                    raise AlignmentError(f"at offset {alignment.offset_s:+.3f} s ({method}) no reference contact "
                                         "falls on a gaitmon contact")
            else:
                alignment = align(reference.steps, side.steps, tolerance)
        except AlignmentError as error:
            raise InputError(reference_path, None, f"cannot align with {gaitmon_path}: {error}") from None
        comparison = compare(reference.steps, reference.lines, side.steps, side.reps, alignment, tolerance,
                             gaitmon_events=side.events, reference_toe_offs=reference.toe_offs())
        recordings.append((side, reference, comparison))
    return Validation(recordings, summary_rows([c for _, _, c in recordings]), tolerance)


def pair_rows(validation: Validation) -> list[dict]:
    """``validation.csv``: one row per reference contact (matched or missed) and per extra gaitmon
    contact inside the reference's span, with both values and the difference (gaitmon − reference)."""
    rows = []
    for side, _reference, comparison in validation.recordings:
        for pair in comparison.pairs:
            g, r = pair.gaitmon, pair.reference
            status = "matched" if g is not None and r is not None else ("missed" if g is None else "extra")
            either = g if g is not None else r
            row: dict = {"recording": side.path.name, "status": status, "reference_at": pair.where,
                         "side": either.side if either is not None else "", "rep": pair.rep or "",
                         "phase": pair.phase}
            for m in METRICS:
                gaitmon_col, reference_col, diff_col = _value_columns(m)
                gv = getattr(g, m.field) if g is not None else math.nan
                rv = getattr(r, m.field) if r is not None else math.nan
                shown = 1.0 if m.kind == "event" else m.scale
                row[gaitmon_col], row[reference_col] = gv * shown, rv * shown
                row[diff_col] = (gv - rv) * m.scale
            rows.append(row)
    return rows


def write_validation(validation: Validation, out_dir: Path, command: str = "") -> list[Path]:
    """Write ``validation.csv``, ``summary.csv`` and ``validation.html`` into ``out_dir``, each whole."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, writer in (("validation.csv", lambda p: write_table_csv(p, pair_rows(validation), PAIR_COLUMNS)),
                         ("summary.csv", lambda p: write_table_csv(p, validation.summary, SUMMARY_COLUMNS)),
                         ("validation.html", lambda p: p.write_text(render_page(validation, command),
                                                                    encoding="utf-8"))):
        final = out_dir / name
        partial = out_dir / f".{name}.partial"
        writer(partial)
        os.replace(partial, final)
        written.append(final)
    return written


#: Fewest matched steps in a phase for a calibration entry of its own (else only "all").
MIN_BAND_STEPS = 10


def calibration_of(validation: Validation, athlete: str, source: str):
    """The :class:`~gaitmon.analysis.calibration.Calibration` this validation measured: contact and
    flight time bias over all matched steps, and per phase where a phase has ≥ :data:`MIN_BAND_STEPS`."""
    import datetime as dt

    from gaitmon.analysis.calibration import Calibration, CalibrationEntry

    entries = []
    for row in validation.summary:
        if row["metric"] not in ("contact", "flight") or not math.isfinite(row["bias"]):
            continue
        if row["phase"] != "all" and row["n_matched"] < MIN_BAND_STEPS:
            continue
        entries.append(CalibrationEntry(row["metric"], row["phase"], row["bias"] / 1e3,
                                        row["sd"] / 1e3, int(row["n_matched"])))
    if not entries:
        raise InputError(source, None, "no matched contact or flight times: nothing to calibrate")
    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return Calibration(athlete, created, source, tuple(entries))
