"""The page: header, the five sections in order, footer; :func:`render_report` and :func:`write_report`.

The header lists who and what was recorded (:func:`session_facts`); the sections come from
:mod:`~gaitmon.report.flags`, :mod:`~gaitmon.report.traces`, :mod:`~gaitmon.report.steps`,
:mod:`~gaitmon.report.legs` and :mod:`~gaitmon.report.tables`; the stylesheet from
:mod:`~gaitmon.report.style`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from html import escape
from pathlib import Path

import numpy as np

from gaitmon.analysis.result import AnalysisResult
from gaitmon.report.flags import flags_html
from gaitmon.report.legs import legs_html
from gaitmon.report.steps import steps_html
from gaitmon.report.style import CSS
from gaitmon.report.tables import rep_table_html, sensor_notes_html
from gaitmon.report.traces import rep_picker_css, traces_html
from gaitmon.session.meta import SessionMeta
from gaitmon.stream.timing import GapMark


def session_facts(result: AnalysisResult, samples, meta: SessionMeta | None) -> list[tuple[str, str]]:
    """(label, value) pairs of the header: athlete, date, sensors, duration, steps, reps, and the
    calibration that corrected the step durations, if any."""
    athlete = meta.athlete if meta and meta.athlete else "not given"
    date = "not given"
    if meta is not None:
        try:
            date = meta.started.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            date = meta.started_at
    if meta and meta.sensors:
        sensors = "; ".join(f"{role}: {info.label or info.family or info.identifier or 'sensor'}"
                            + (f" at {info.rate_hz:g} Hz" if info.rate_hz else "")
                            for role, info in sorted(meta.sensors.items()))
    else:
        sensors = "; ".join(f"{side}: {1 / np.median(np.diff(t)):.0f} Hz" for side, (t, _) in sorted(samples.items())
                            if len(t) > 1) or "none"
    starts = [t[0] for t, _ in samples.values() if len(t)]
    ends = [t[-1] for t, _ in samples.values() if len(t)]
    duration = meta.duration_s if meta and meta.duration_s else (max(ends) - min(starts) if starts else 0.0)
    legs = ", ".join(f"{sum(step.side == side for step in result.steps)} {side}" for side in result.sides)
    return [
        ("Athlete", athlete), ("Date", date), ("Sensors", f"{result.placement} · {sensors}"),
        ("Duration", f"{int(duration // 60)} min {duration % 60:04.1f} s"),
        ("Steps", f"{len(result.steps)}" + (f" ({legs})" if legs else "")),
        ("Reps", str(len(result.balance.reps))),
    ] + ([("Calibrated", result.calibration.describe())] if result.calibration is not None else [])


#: A header fact longer than this (characters) takes the header's whole width.
WIDE_FACT = 60


def header_html(facts: list[tuple[str, str]], title: str = "Sprint session report") -> str:
    wide = ' class="wide"'
    items = "".join(f"<div{wide if len(v) > WIDE_FACT else ''}><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>"
                    for k, v in facts)
    return (f'<header><h1>{escape(title)}</h1><dl class="facts">{items}</dl>'
            '<p class="narrow-only">The charts are wider than this screen: swipe them sideways.</p></header>')


def render_report(result: AnalysisResult, samples: dict[str, tuple[np.ndarray, np.ndarray]],
                  meta: SessionMeta | None = None, gaps: Sequence[GapMark] = ()) -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    facts = session_facts(result, samples, meta)
    traces = {side: tr for side, tr in result.traces.items() if len(tr[0]) > 1}
    flagged = {flag.rep for flag in result.balance.flags if flag.alarm}
    athlete = meta.athlete if meta and meta.athlete else ""
    title = "gaitmon session report" + (f" — {athlete}" if athlete else "")
    return "".join([
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{CSS}{rep_picker_css(result.balance.reps)}</style></head><body>",
        header_html(facts),
        flags_html(result.balance.flags, len(result.balance.reps)),
        traces_html(result, traces, gaps),
        steps_html(result),
        legs_html(result),
        '<section id="tables"><h2>Reps, sensors and gaps</h2>',
        rep_table_html(result.balance.reps, flagged),
        sensor_notes_html(samples, gaps, meta, result.steps),
        "</section>",
        f"<footer>gaitmon {escape(meta.software_version) if meta else ''} · {escape(str(result.source))}. "
        "Swing side: peak forward angular velocity of the shank in mid-swing. Push side: spring-mass estimate "
        "of peak vertical force from contact and flight times (Morin et al. 2005), not a force plate.</footer>",
        "</body></html>",
    ])


def write_report(path: Path, result: AnalysisResult, samples: dict[str, tuple[np.ndarray, np.ndarray]],
                 meta: SessionMeta | None = None, gaps: Sequence[GapMark] = ()) -> Path:
    """Write the session report as one self-contained HTML file.

    Parameters
    ----------
    path : Path
        The file to write (overwritten; its folder is created).
    result : AnalysisResult
        Events, steps, reps and flags of the session (:func:`gaitmon.engine.analyze.analyze_samples`).
    samples : dict
        side → ``(t[n], x[n, 6])`` in the sensor frame, as analysed: the gyro traces come from it.
    meta : SessionMeta, optional
        Athlete, date and sensors for the header.
    gaps : sequence of GapMark
        Gaps marked during acquisition (``GapMark.sensor`` is the leg), shaded on the traces.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(result, samples, meta, gaps), encoding="utf-8")
    return path
