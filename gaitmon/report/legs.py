"""Section 4 of the report: left against right and swing against push, rep by rep.

:func:`left_right_svg`: each leg's top-speed medians per rep (swing peak in rad/s, push force in
× body weight) with the L−R asymmetry in %. :func:`balance_svg`: each leg's swing and push in %
change from its first rep, with each leg's trend over the last :data:`TREND_WINDOW` reps as the
rep-scale flag estimates it — the convention of :mod:`gaitmon.analysis.balance`, which the dashboard
draws too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gaitmon.analysis import Flag, Rep
from gaitmon.analysis.balance import PUSH, REP_WINDOW, SWING, rep_points, rep_trend_line
from gaitmon.analysis.result import AnalysisResult
from gaitmon.analysis.reps import asymmetry_pct
from gaitmon.report.style import INK, LEG_COLOUR, LEG_MARKER, LEGS, MUTED, PUSH_COLOUR, SWING_COLOUR, WIDTH, fmt
from gaitmon.report.svg import (Frame, axes, legend, line, marker_path, nice_ticks, padded_range, path_data, svg,
                                text)


#: Reps of the strength-balance trend lines (the rep-scale flag's own window).
TREND_WINDOW = REP_WINDOW


def rep_axis_frames(reps: list[Rep], y_ranges: Sequence[tuple[float, float]], top: float, height: float,
                    gap: float = 70.0, left: float = 64.0) -> list[Frame]:
    """Side-by-side frames with reps as categories on x."""
    width = (WIDTH - left - 20 - gap * (len(y_ranges) - 1)) / len(y_ranges)
    return [Frame(left + i * (width + gap), top, width, height, (0.5, len(reps) + 0.5), y_range)
            for i, y_range in enumerate(y_ranges)]


def left_right_svg(reps: list[Rep], sides: Sequence[str]) -> str:
    """Per rep, each leg's swing and push output (top-speed medians) with the L−R asymmetry in %."""
    panels = (("swing_peak_rad_s", "Swing peak (rad/s)"), ("push_force_bw", "Push force (× body weight)"))
    values = {key: {side: np.array([rep.summary(side)[key] for rep in reps]) for side in sides} for key, _ in panels}
    y_ranges = [padded_range(np.concatenate(list(values[key].values())), 0.15) for key, _ in panels]
    frames = rep_axis_frames(reps, y_ranges, 64, 200)
    x = np.arange(1, len(reps) + 1, dtype=float)
    dodge = 0.14 if len(sides) == 2 else 0.0
    out = [legend([(marker_path(LEG_MARKER[side], 0, 0, LEG_COLOUR[side], 5), f"{side} leg") for side in sides],
                  64, 14)]
    show_asym = len(sides) == 2 and frames[0].width / len(reps) >= 38
    for frame, (key, title) in zip(frames, panels):
        out.append(axes(frame, x, nice_ticks(*frame.y_range, 4), y_title=title,
                        x_labels=[str(rep.number) for rep in reps]))
        if len(sides) == 2:
            for xi, a, b in zip(x, values[key]["left"], values[key]["right"]):
                if math.isfinite(a) and math.isfinite(b):
                    out.append(line(float(frame.x(xi - dodge)), float(frame.y(a)), float(frame.x(xi + dodge)),
                                    float(frame.y(b)), MUTED, 1.2))
        for j, side in enumerate(sides):
            shift = -dodge if j == 0 else dodge
            out.append(marker_path(LEG_MARKER[side], frame.x(x + shift), frame.y(values[key][side]),
                                   LEG_COLOUR[side], 5))
        out.append(text(frame.left + frame.width / 2, frame.bottom + 36, "rep", 13, "middle"))
        if show_asym:
            out.append(text(frame.left - 6, frame.bottom + 58, "L−R %", 12, "end", MUTED))
            for xi, a, b in zip(x, values[key]["left"], values[key]["right"]):
                out.append(text(float(frame.x(xi)), frame.bottom + 58, fmt(asymmetry_pct(a, b), "{:+.0f}"), 12,
                                "middle", MUTED))
    return svg(WIDTH, frames[0].bottom + 70, "".join(out), "Left and right leg outputs per rep")


def balance_svg(reps: list[Rep], sides: Sequence[str], flags: list[Flag]) -> str:
    """Per leg: swing and push (% change from the first rep) per rep, with the flag's trend over the last reps."""
    x = np.arange(1, len(reps) + 1, dtype=float)
    keys = {"swing": SWING, "push": PUSH}
    series = {side: {what: rep_points(reps, side, key)[1] for what, key in keys.items()} for side in sides}
    fits = {}
    for side in sides:
        for what, key in keys.items():
            fit = rep_trend_line(reps, side, key, TREND_WINDOW)
            fits[side, what] = None if fit is None else (np.array([fit.x0, fit.x1]), np.array([fit.y0, fit.y1]))
    everything = np.concatenate([v for s in series.values() for v in s.values()] + [np.array([0.0])]
                                + [fit[1] for fit in fits.values() if fit is not None])
    y_range = padded_range(everything, 0.12)
    first_rep = reps[max(0, len(reps) - TREND_WINDOW)].number
    frames = rep_axis_frames(reps, [y_range] * len(sides), 64, 220)
    styles = {"swing": (SWING_COLOUR, "circle", "swing (peak swing ω)"),
              "push": (PUSH_COLOUR, "square", "push (force estimate)")}
    out = [legend([(f'{line(-8, 0, 8, 0, colour, 2)}{marker_path(shape, 0, 0, colour, 4.5)}', name)
                   for colour, shape, name in styles.values()]
                  + [(line(-8, 0, 8, 0, INK, 2, "5 3"), f"trend, reps {first_rep}–{reps[-1].number}")], 64, 14)]
    for frame, side in zip(frames, sides):
        out.append(axes(frame, x, nice_ticks(*y_range, 4), y_title=f"{side.capitalize()} leg: % change from rep 1",
                        x_labels=[str(rep.number) for rep in reps]))
        out.append(line(frame.left, float(frame.y(0)), frame.right, float(frame.y(0)), MUTED, 1, "2 2"))
        for flag in flags:
            if flag.alarm and flag.scale == "reps" and flag.side in (side, "both"):
                fx = float(frame.x(flag.rep))
                out.append(line(fx, frame.top, fx, frame.bottom, INK, 1, "1 3"))
                out.append(text(fx, frame.top + 12, "⚑", 13, "middle"))
        for what, (colour, shape, _) in styles.items():
            y = series[side][what]
            keep = np.isfinite(y)
            if keep.any():
                out.append(f'<path d="{path_data(frame.x(x[keep]), frame.y(y[keep]))}" fill="none" '
                           f'stroke="{colour}" stroke-width="1.5" stroke-opacity="0.6"/>')
            fit = fits[side, what]
            if fit is not None:
                out.append(f'<path d="{path_data(frame.x(fit[0]), frame.y(fit[1]))}" fill="none" stroke="{colour}" '
                           f'stroke-width="2.5" stroke-dasharray="6 3"/>')
            out.append(marker_path(shape, frame.x(x), frame.y(y), colour, 4.5))
        out.append(text(frame.left + frame.width / 2, frame.bottom + 36, "rep", 13, "middle"))
    return svg(WIDTH, frames[0].bottom + 48, "".join(out), "Swing against push per rep, in % change from the first rep")


def legs_html(result: AnalysisResult) -> str:
    reps = result.balance.reps
    sides = [side for side in LEGS if side in result.sides]
    head = '<section id="legs"><h2>Left vs right, swing vs push</h2>'
    if not reps or not sides:
        return head + "<p>No reps, so no per-rep comparison.</p></section>"
    one_leg = ("" if len(sides) == 2 else
               f"<p class=\"why\">Only the {sides[0]} leg was recorded: no left/right comparison, and flight "
               "times (so the push force estimate) are estimated from the stride assuming equal steps.</p>")
    return (head + one_leg + "<p class=\"lead\">Each rep's values are the medians of its top-speed steps. "
            "L−R %: (left − right) / mean; positive when the left leg's output is higher.</p>"
            f"<figure>{left_right_svg(reps, sides)}</figure>"
            "<p class=\"lead\">Strength balance: each leg's swing and push outputs per rep in % change from "
            "its first rep. The flag looks for push still rising while swing has levelled off (or the reverse). "
            f"Dashed: each leg's trend over the last {TREND_WINDOW} reps as the flag estimates it (a "
            "random-effects regression over the reps' top-speed steps: the leg's latest assessment), drawn "
            "through the mean of the points; the raised flags' slopes and confidence intervals are in the "
            "banners above. ⚑: a flag was raised at that rep.</p>"
            f"<figure>{balance_svg(reps, sides, result.balance.flags)}</figure></section>")
