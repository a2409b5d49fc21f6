"""Section 3 of the report: the per-step metrics over the session, both legs.

One row per metric of :data:`STEP_METRICS` (contact and flight time in ms, step frequency in Hz,
swing peak in rad/s, push force estimate in × body weight) against time (s); with reps, one segment
per rep (time since its start), the walking between reps left out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gaitmon.analysis import Rep
from gaitmon.analysis.metrics import STEP_METRICS as METRICS
from gaitmon.analysis.result import AnalysisResult
from gaitmon.analysis.steps import Step
from gaitmon.report.style import LEG_COLOUR, LEG_MARKER, LEGS, MUTED, TOP_SPEED_FILL, WIDTH
from gaitmon.report.svg import Frame, axes, legend, marker_path, nice_ticks, padded_range, rect, svg, text


#: (Step field, name, unit, scale) of each charted metric, from :mod:`gaitmon.analysis.metrics`.
STEP_METRICS = tuple((m.key, m.label, m.unit, m.scale) for m in METRICS)


def segment_frames(spans: Sequence[tuple[float, float]], left: float, width: float, top: float, height: float,
                   y_range: tuple[float, float], gap: float = 10.0) -> list[Frame]:
    """Side-by-side frames, one per time span, widths in proportion to their durations."""
    total = sum(b - a for a, b in spans)
    usable = width - gap * (len(spans) - 1)
    frames, x = [], left
    for a, b in spans:
        w = usable * (b - a) / total
        frames.append(Frame(x, top, w, height, (a, b), y_range))
        x += w + gap
    return frames


def steps_svg(steps: list[Step], reps: list[Rep], sides: Sequence[str], flagged: set[int]) -> str:
    """Each metric against time, both legs; with reps, one segment per rep (walking between left out)."""
    if reps:
        spans = [(rep.start_s - 0.3, rep.end_s + 0.3) for rep in reps]
        groups = [rep.steps for rep in reps]
    else:
        times = [r.ic_s for r in steps]
        spans = [padded_range(times, 0.02)]
        groups = [steps]
    plotted = [step for group in groups for step in group]
    left, top, row_h, row_gap = 64, 84, 92, 40
    out = [legend([(marker_path(LEG_MARKER[side], 0, 0, LEG_COLOUR[side], 4.5), f"{side} leg") for side in sides]
                  + ([(rect(-6, -6, 12, 12, TOP_SPEED_FILL, stroke=MUTED), "top-speed steps (the rep's values)")]
                     if reps else []), left, 14)]
    for row, (key, name, unit, scale) in enumerate(STEP_METRICS):
        values = np.array([getattr(r, key) for r in plotted], dtype=float) * scale
        y_range = padded_range(values, 0.08)
        y_ticks = nice_ticks(*y_range, 4)
        frames = segment_frames(spans, left, WIDTH - left - 14, top + row * (row_h + row_gap), row_h, y_range)
        last = row == len(STEP_METRICS) - 1
        for i, (frame, group) in enumerate(zip(frames, groups)):
            if reps and reps[i].top_speed:
                a, b = reps[i].top_speed[0].ic_s, reps[i].top_speed[-1].ic_s
                out.append(rect(float(frame.x(a)) - 2, frame.top, float(frame.x(b) - frame.x(a)) + 4, frame.height,
                                TOP_SPEED_FILL))
            offset = reps[i].start_s if reps else 0.0
            x_ticks = nice_ticks(frame.x_range[0] - offset, frame.x_range[1] - offset,
                                 max(2, int(frame.width // 70))) + offset if last else ()
            out.append(axes(frame, x_ticks, y_ticks, x_offset=offset, y_labels=i == 0,
                            y_title=f"{name} ({unit})" if i == 0 else ""))
            if row == 0 and reps:
                n = reps[i].number
                out.append(text(frame.left + frame.width / 2, 46, f"Rep {n}{' ⚑' if n in flagged else ''}",
                                12, "middle", bold=True))
            for side in sides:
                rows = [r for r in group if r.side == side]
                out.append(marker_path(LEG_MARKER[side], frame.x([r.ic_s for r in rows]),
                                       frame.y(np.array([getattr(r, key) for r in rows], dtype=float) * scale),
                                       LEG_COLOUR[side], 3.2))
    bottom = top + len(STEP_METRICS) * (row_h + row_gap) - row_gap
    x_title = ("time since the start of each rep (s); walking between reps left out" if reps
               else "session time (s)")
    out.append(text(left + (WIDTH - left) / 2, bottom + 38, x_title, 13, "middle"))
    return svg(WIDTH, bottom + 50, "".join(out), "Per-step metrics over the session")


def steps_html(result: AnalysisResult) -> str:
    reps = result.balance.reps
    head = '<section id="steps"><h2>Step by step</h2>'
    sides = [side for side in LEGS if side in result.sides]
    if not result.steps:
        return head + "<p>No steps were detected.</p></section>"
    in_reps = sum(len(rep.steps) for rep in reps)
    lead = (f"<p class=\"lead\">The {in_reps} steps of the {len(reps)} reps; the {len(result.steps) - in_reps} "
            "walking and jogging steps between them are left out. Grey: the top-speed steps each rep's "
            "values come from. A missing point is a value that could not be measured (e.g. no flight).</p>"
            if reps else "<p class=\"lead\">All steps of the session (there are no reps). A missing point is a "
                         "value that could not be measured (e.g. no flight phase when walking).</p>")
    flagged = {flag.rep for flag in result.balance.flags if flag.alarm}
    return head + lead + f"<figure>{steps_svg(result.steps, reps, sides, flagged)}</figure></section>"
