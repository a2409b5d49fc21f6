"""Section 1 of the report: the strength-balance flags as banners.

Alarms first, then notes, each with its sentence, what it rests on and a small chart of the trends
behind it (slopes in % per step, rep or session, with confidence intervals); or one plain sentence
when nothing was flagged.
"""

from __future__ import annotations

import math
from html import escape

from gaitmon.analysis import Flag
from gaitmon.analysis.flags import SCALE_UNITS
from gaitmon.report.style import INK, MUTED, PUSH_COLOUR, SWING_COLOUR
from gaitmon.report.svg import Frame, line, marker_path, nice_ticks, svg, text, tick_label


BASELINES = {"steps": "the same steps of the earlier reps", "reps": "the first rep",
             "sessions": "the first session"}


def evidence_svg(flag: Flag) -> str:
    """Slopes with confidence intervals behind a flag: swing, push and push − swing, against 0."""
    unit = SCALE_UNITS[flag.scale]
    rows = [("swing", flag.swing, SWING_COLOUR), ("push", flag.push, PUSH_COLOUR),
            ("push − swing", flag.balance, INK)]
    known = [v for _, trend, _ in rows for v in (trend.low, trend.high, trend.slope) if math.isfinite(v)]
    reach = max([abs(v) for v in known] + [1.0]) * 1.15
    frame = Frame(100, 10, 250, 66, (-reach, reach), (3, 0))
    out = [line(float(frame.x(0)), frame.top - 4, float(frame.x(0)), frame.bottom, MUTED, 1, "3 2")]
    for i, (name, trend, colour) in enumerate(rows):
        y = frame.top + 11 + 22 * i
        out.append(text(frame.left - 8, y + 4.5, name, 12, "end"))
        if trend.known:
            out.append(line(float(frame.x(trend.low)), y, float(frame.x(trend.high)), y, colour, 3))
            out.append(marker_path("diamond", frame.x(trend.slope), y, colour, 5.5))
    ticks = nice_ticks(-reach, reach, 4)
    for value in ticks:
        x = float(frame.x(value))
        out.append(line(x, frame.bottom, x, frame.bottom + 4, INK))
        out.append(text(x, frame.bottom + 16, tick_label(value, ticks), 11, "middle"))
    out.append(text(frame.right + 8, frame.bottom + 16, f"%/{unit}", 11))
    return svg(420, 100, "".join(out), f"Trends behind the flag, % per {unit}, with confidence intervals")


def flag_html(flag: Flag) -> str:
    unit = SCALE_UNITS[flag.scale]
    kind = "Strength-balance flag" if flag.alarm else "Note"
    raised = f"at rep {flag.rep}" if flag.rep else f"in session {flag.session}"
    basis = (f"Rests on {flag.swing.n} {unit}s ({flag.covers}), each leg's outputs in % of "
             f"{BASELINES[flag.scale]}; raised {raised}. Push − swing {flag.balance.describe(unit)}.")
    return (f'<div class="flag {"alarm" if flag.alarm else "note"}"><div><p class="kind">{kind}</p>'
            f'<p class="sentence">{escape(flag.message)}</p><p class="basis">{escape(basis)}</p></div>'
            f'{evidence_svg(flag)}</div>')


def flags_html(flags: list[Flag], n_reps: int) -> str:
    """Alarms first, then notes; or a plain sentence when nothing was flagged."""
    intro = ("<p class=\"lead\">The flag asks: has the <b>swing side</b> (peak swing speed of the shank) "
             "stopped rising while the <b>push side</b> (force estimate from contact and flight times) keeps "
             "rising — or the reverse? Each flag is an observation from this athlete's own numbers, "
             "not a diagnosis.</p>")
    if not flags:
        power = (" With fewer than 8 reps a plateau is often too small to tell from rep-to-rep scatter, so "
                 "“no flag” is not proof of balance." if n_reps < 8 else "")
        return (f'<section id="flags"><h2>Strength balance</h2>{intro}<div class="flag none"><p class="sentence">'
                f"No strength-balance flag was raised in this session ({n_reps} reps).{power}</p></div></section>")
    ordered = sorted(flags, key=lambda f: (not f.alarm, f.rep))
    return (f'<section id="flags"><h2>Strength balance</h2>{intro}'
            + "".join(flag_html(flag) for flag in ordered) + "</section>")
