"""Section 2 of the report: each rep's sagittal shank angular velocity (rad/s) with its gait events.

:func:`traces_html` shows the ω each leg's step core was fed (``AnalysisResult.traces``), one panel
per rep behind a CSS-only selector (:func:`rep_picker_css`, no script), the first flagged or else
the fastest rep first; printed, every rep's panel, one after another, without the selector. A panel
stacks one row per leg on one scale over session time (s), under the rep's phases, with contacts (IC
→ TO) and gaps shaded. Without reps: the first :data:`NO_REP_TRACE_S` seconds of movement and one
sentence on why there are no reps.

Linear in samples and events: the events are split once by leg and kind (:func:`event_marks`), and
each panel takes its samples and events by binary search on time (the traces are time-sorted: what
the core was fed), so a panel costs what it shows, however long the session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np

from gaitmon.analysis import Flag, Rep
from gaitmon.analysis.trends import median
from gaitmon.analysis.result import AnalysisResult
from gaitmon.analysis.reps import running_bouts
from gaitmon.analysis.steps import Step
from gaitmon.report.style import CONTACT_FILL, GAP_FILL, INK, LEG_COLOUR, LEGS, MUTED, WIDTH
from gaitmon.report.svg import (Frame, axes, legend, line, marker_path, nice_ticks, padded_range, rect, svg, text,
                                time_window, trace_path)
from gaitmon.stream.timing import GapMark


#: Seconds shown before a rep's first contact (the push-off from the start) and after its end.
REP_PAD_S = (1.0, 0.5)
#: Length of the trace shown when there are no reps, s.
NO_REP_TRACE_S = 10.0


def top_speed_swing(rep: Rep) -> float:
    """Median swing peak of the rep's top-speed steps, both legs (rad/s): how fast the rep was."""
    return median([r.swing_peak_rad_s for r in rep.top_speed])


def default_rep(reps: list[Rep], flags: list[Flag]) -> int:
    """The rep shown first: the first one a flag was raised on, else the fastest (highest swing peak)."""
    numbers = {rep.number for rep in reps}
    flagged = [flag.rep for flag in flags if flag.alarm and flag.rep in numbers]
    if flagged:
        return min(flagged)
    peaks = np.array([top_speed_swing(rep) for rep in reps])
    return reps[int(np.nanargmax(peaks))].number if np.isfinite(peaks).any() else reps[0].number


def no_reps_reason(steps: list[Step]) -> str:
    """One sentence on why a session has no reps."""
    if not steps:
        return "No steps were detected, so there are no reps to show."
    bouts = running_bouts(steps)
    if not bouts:
        return ("Steps were detected but none had a flight phase (walking, or jogging too slowly to "
                "leave the ground), so there are no sprint reps to show.")
    longest = max(len(bout) for bout in bouts)
    return (f"The longest run of steps with a flight phase had {longest} steps: too short to count as a "
            f"sprint rep, so there are no rep panels.")


def rep_phases(rep: Rep) -> list[tuple[str, float, float]]:
    """(name, start, end) of the acceleration, top-speed and deceleration phases of a rep, s."""
    def span(steps: list[Step]) -> tuple[float, float]:
        end = steps[-1].to_s if math.isfinite(steps[-1].to_s) else steps[-1].ic_s
        return steps[0].ic_s, end
    phases = [(name, *span(rows)) for name, rows in
              (("acceleration", rep.acceleration), ("top speed", rep.top_speed), ("slowing", rep.deceleration))
              if rows]
    return [(name, start, phases[i + 1][1] if i + 1 < len(phases) else end)
            for i, (name, start, end) in enumerate(phases)]


EVENT_SHAPES = (("TO", "up", "toe-off (TO)"), ("MSW", "circle", "mid-swing peak (MSW)"),
                ("IC", "down", "initial contact (IC)"))


#: One leg's events of one kind: times (s, sorted) and the ω drawn at them (rad/s).
Marks = dict[str, tuple[np.ndarray, np.ndarray]]


def event_marks(events, traces) -> dict[str, Marks]:
    """side → kind → ``(t, ω)`` of the events of the legs with a trace, split once for every panel.

    An event's ω is its value, or where it has none the trace's interpolated at its time.
    """
    split: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for e in events:
        split.setdefault((e.side, e.kind), []).append((e.t, e.value))
    marks: dict[str, Marks] = {side: {} for side in traces}
    for side, (t, omega) in traces.items():
        for kind, _, _ in EVENT_SHAPES:
            rows = np.array(split.get((side, kind), []), dtype=float).reshape(-1, 2)
            rows = rows[np.argsort(rows[:, 0], kind="stable")]
            times, values = rows[:, 0], rows[:, 1]
            missing = ~np.isfinite(values)
            if missing.any():
                values[missing] = np.interp(times[missing], t, omega)
            marks[side][kind] = (times, values)
    return marks


def phase_strip(frame: Frame, phases: Sequence[tuple[str, float, float]]) -> str:
    """A band naming the rep's phases over time, top speed darker."""
    out = []
    lo, hi = frame.x_range
    for name, start, end in phases:
        x0, x1 = float(frame.x(max(start, lo))), float(frame.x(min(end, hi)))
        out.append(rect(x0, frame.top, x1 - x0, frame.height, "#cfcfcf" if name == "top speed" else "#f3f3f3",
                        stroke="#ffffff"))
        if x1 - x0 > 0.6 * 12 * len(name):
            out.append(text((x0 + x1) / 2, frame.top + 14.5, name, 12, "middle"))
    return "".join(out)


def leg_shading(frame: Frame, side: str, steps: Sequence[Step], gaps: Sequence[GapMark]) -> str:
    """One leg's contacts (IC to TO) shaded and its gaps marked over the frame's time span."""
    lo, hi = frame.x_range
    out = []
    for step in steps:
        if step.side == side and math.isfinite(step.to_s) and step.to_s > lo and step.ic_s < hi:
            x0, x1 = float(frame.x(max(step.ic_s, lo))), float(frame.x(min(step.to_s, hi)))
            out.append(rect(x0, frame.top, x1 - x0, frame.height, CONTACT_FILL))
    for gap in gaps:
        x0, x1 = float(frame.x(max(gap.t_start, lo))), float(frame.x(min(gap.t_end, hi)))
        out.append(rect(x0, frame.top, max(x1 - x0, 2.0), frame.height, GAP_FILL, 0.7, MUTED))
    return "".join(out)


def leg_trace(frame: Frame, side: str, trace: tuple[np.ndarray, np.ndarray], marks: Marks) -> str:
    """One leg's ω line over the frame's time span with its TO / MSW / IC markers."""
    t, omega = trace
    out = [line(frame.left, float(frame.y(0)), frame.right, float(frame.y(0)), MUTED, 0.8),
           trace_path(frame, t, omega, LEG_COLOUR[side])]
    for kind, shape, _ in EVENT_SHAPES:
        times, values = marks[kind]
        inside = time_window(times, *frame.x_range)
        out.append(marker_path(shape, frame.x(times[inside]), frame.y(values[inside]), INK, 4.5))
    return "".join(out)


def trace_svg(window: tuple[float, float], traces, marks: dict[str, Marks], steps, gaps: Sequence[GapMark],
              phases: Sequence[tuple[str, float, float]], label: str) -> str:
    """Stacked rows (one per leg, same scale) of ω over ``window``, under the rep's phases."""
    sides = [side for side in LEGS if side in traces] or sorted(traces)
    left, row_h, row_gap, top = 62, 150, 34, 78 if phases else 56
    y_range = padded_range(np.concatenate([traces[side][1][time_window(traces[side][0], *window)]
                                           for side in sides]), 0.04)
    gaps = [gap for gap in gaps if gap.t_end > window[0] and gap.t_start < window[1]]
    out = [legend([(marker_path(shape, 0, 0, INK, 5), name) for _, shape, name in EVENT_SHAPES]
                  + [(rect(-6, -6, 12, 12, CONTACT_FILL, stroke=MUTED), "contact (IC → TO)")]
                  + ([(rect(-6, -6, 12, 12, GAP_FILL, 0.7, MUTED), "gap in the data")] if gaps else []), left, 14)]
    if phases:
        out.append(phase_strip(Frame(left, 30, WIDTH - left - 14, 20, window, (0, 1)), phases))
    for row, side in enumerate(sides):
        frame = Frame(left, top + row * (row_h + row_gap), WIDTH - left - 14, row_h, window, y_range)
        last = row == len(sides) - 1
        # a gap of a sensor not named after a leg is shown on every leg
        out.append(leg_shading(frame, side, steps, [gap for gap in gaps
                                                    if gap.sensor == side or gap.sensor not in LEGS]))
        out.append(axes(frame, nice_ticks(*window, 10) if last else (), nice_ticks(*y_range, 5),
                        y_title=f"{side.capitalize()} shank: sagittal angular velocity ω (rad/s)",
                        x_title="session time (s)" if last else ""))
        out.append(leg_trace(frame, side, traces[side], marks[side]))
    return svg(WIDTH, top + len(sides) * (row_h + row_gap) + 20, "".join(out), label)


def traces_html(result: AnalysisResult, traces, gaps: Sequence[GapMark]) -> str:
    """One panel per rep behind a CSS-only selector; or the first seconds and why there are no reps."""
    reps, flags = result.balance.reps, result.balance.flags
    head = ('<section id="traces"><h2>Gyro traces and gait events</h2><p class="lead">Sagittal angular '
            "velocity of each shank (swinging forward is positive), with the events gaitmon detected.</p>")
    if not traces:
        return head + "<p>Too little movement in the recording to find the sagittal axis: no traces.</p></section>"
    marks = event_marks(result.events, traces)
    if not reps:
        data_start = min(t[0] for t, _ in traces.values())
        data_end = max(t[-1] for t, _ in traces.values())
        first = max(data_start, min([e.t for e in result.events] or [data_start]) - 1.0)
        window = (first, min(first + NO_REP_TRACE_S, data_end))
        chart = trace_svg(window, traces, marks, result.steps, gaps, (),
                          f"The first {window[1] - window[0]:.0f} s of movement")
        return (head + f"<p class=\"why\">{escape(no_reps_reason(result.steps))} Shown instead: the first "
                f"{window[1] - window[0]:.0f} s of the recording from the first movement.</p>"
                f"<figure>{chart}</figure></section>")
    chosen = default_rep(reps, flags)
    flagged = {flag.rep for flag in flags if flag.alarm}
    radios, tabs, panels = [], [], []
    for rep in reps:
        n = rep.number
        radios.append(f'<input type="radio" name="rep" id="rep-{n}" class="picker"{" checked" if n == chosen else ""}>')
        mark = " ⚑" if n in flagged else ""
        tabs.append(f'<label for="rep-{n}">Rep {n}{mark}</label>')
        window = (rep.start_s - REP_PAD_S[0], rep.end_s + REP_PAD_S[1])
        title = (f"Rep {n}: {rep.start_s:.1f}–{rep.end_s:.1f} s, {len(rep.steps)} steps"
                 + (" — a strength-balance flag was raised at this rep" if n in flagged else ""))
        chart = trace_svg(window, traces, marks, rep.steps, gaps, rep_phases(rep), title)
        panels.append(f'<figure class="rep-panel" id="panel-{n}"><figcaption>{escape(title)}</figcaption>'
                      f"{chart}</figure>")
    why = ("the first rep a flag was raised on" if flagged & {r.number for r in reps}
           else "the fastest rep (highest swing peak)")
    return (head + f'<p class="screen-only">Pick a rep; shown first: rep {chosen}, {why}. ⚑ = flag raised at '
            f'that rep.</p><p class="print-only">All {len(reps)} reps, one panel each.</p>'
            + "".join(radios) + f'<div class="tabs">{"".join(tabs)}</div>'
            + "".join(panels) + "</section>")


def rep_picker_css(reps: list[Rep]) -> str:
    """Show the panel of the checked rep and highlight its label (the selector needs no script)."""
    return "".join(f"#rep-{n}:checked~#panel-{n}{{display:block}}"
                   f"#rep-{n}:checked~.tabs [for=rep-{n}]{{background:{INK};color:#fff}}"
                   for n in (rep.number for rep in reps))
