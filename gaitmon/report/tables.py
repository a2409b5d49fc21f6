"""Section 5 of the report: the rep table and the notes on sensors and gaps (HTML tables).

:func:`rep_table_html` shows ``reps.csv`` with units (:data:`REP_FORMATS`: times in s or ms, swing
peak in rad/s, push force in × body weight, asymmetry in %); :func:`sensor_notes_html` lists per
sensor its samples, measured rate (Hz) and holes, and the gaps marked during acquisition (s, ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

from gaitmon.analysis import REP_COLUMNS, Rep, Step
from gaitmon.report.style import fmt
from gaitmon.report.svg import hole_threshold_for
from gaitmon.session.meta import SessionMeta
from gaitmon.stream.timing import GapMark


#: How each ``reps.csv`` column is shown: header, unit, scale, format.
REP_FORMATS = {
    "rep": ("Rep", "", 1, "{:.0f}"),
    "side": ("Leg", "", 1, "{}"),
    "start_s": ("Start", "s", 1, "{:.1f}"),
    "end_s": ("End", "s", 1, "{:.1f}"),
    "n_steps": ("Steps", "", 1, "{:.0f}"),
    "n_acceleration_steps": ("Accel. steps", "", 1, "{:.0f}"),
    "n_top_speed_steps": ("Top-speed steps", "", 1, "{:.0f}"),
    "swing_peak_rad_s": ("Swing peak", "rad/s", 1, "{:.1f}"),
    "push_force_bw": ("Push force", "× BW", 1, "{:.2f}"),
    "contact_s": ("Contact", "ms", 1e3, "{:.0f}"),
    "flight_s": ("Flight", "ms", 1e3, "{:.0f}"),
    "step_hz": ("Step freq.", "Hz", 1, "{:.2f}"),
    "asymmetry_swing_pct": ("L−R swing", "%", 1, "{:+.1f}"),
    "asymmetry_push_pct": ("L−R push", "%", 1, "{:+.1f}"),
}
#: Columns that hold one value per rep (shown once across the rep's leg rows).
PER_REP_COLUMNS = {"rep", "start_s", "end_s", "asymmetry_swing_pct", "asymmetry_push_pct"}


def rep_table_html(reps: list[Rep], flagged: set[int]) -> str:
    """``reps.csv`` as a table with units; per-rep columns span the rep's leg rows."""
    if not reps:
        return ""
    heads = "".join(f"<th>{escape(REP_FORMATS[c][0])}" + (f"<br><span class=\"unit\">{escape(REP_FORMATS[c][1])}"
                    "</span>" if REP_FORMATS[c][1] else "") + "</th>" for c in REP_COLUMNS)
    body = []
    for rep in reps:
        rows = rep.table_rows()
        trs = []
        for i, row in enumerate(rows):
            cells = []
            for column in REP_COLUMNS:
                if column in PER_REP_COLUMNS and i:
                    continue
                _, _, scale, template = REP_FORMATS[column]
                attributes = f' rowspan="{len(rows)}"' if column in PER_REP_COLUMNS else ""
                attributes += ' class="text"' if column == "side" else ""
                cells.append(f"<td{attributes}>{escape(fmt(row[column], template, scale))}</td>")
            trs.append(f"<tr>{''.join(cells)}</tr>")
        css = ' class="flagged"' if rep.number in flagged else ""
        body.append(f"<tbody{css}>{''.join(trs)}</tbody>")
    return (f'<h3>Reps</h3><p class="lead">Values at top speed (medians of the top-speed steps); '
            f'“both” pools the legs. Shaded: a flag was raised at that rep.</p>'
            f'<div class="scroll"><table class="reps"><thead><tr>{heads}</tr></thead>'
            f"{''.join(body)}</table></div>")


def sensor_notes_html(samples, gaps: Sequence[GapMark], meta: SessionMeta | None, steps: list[Step]) -> str:
    """Per sensor: samples, measured rate, holes in the data; the marked gaps; how flight was measured."""
    items = []
    for side, (t, _) in sorted(samples.items()):
        if len(t) < 2:
            items.append(f"<li><b>{escape(side)}</b>: {len(t)} samples — too few to use.</li>")
            continue
        dt = np.diff(t)
        period = float(np.median(dt))
        missing = int(np.sum(np.maximum(np.round(dt / period) - 1, 0)))
        hole_s = hole_threshold_for(period)
        holes = int(np.sum(dt > hole_s))
        info = meta.sensors.get(side) if meta else None
        described = " ".join(part for part in (info.label or info.family, info.address) if part) if info else ""
        name = f" ({described})" if described else ""
        items.append(f"<li><b>{escape(side)}</b>{escape(name)}: {len(t):,} samples at {1 / period:.1f} Hz measured, "
                     f"{t[0]:.1f}–{t[-1]:.1f} s; about {missing:,} samples missing "
                     f"({100 * missing / (len(t) + missing):.2f} %), {holes} hole(s) longer than "
                     f"{1e3 * hole_s:.0f} ms (the trace is broken there).</li>")
    if any(step.flight_source == "one_leg_estimate" for step in steps):
        items.append("<li>One sensor only: flight time is estimated from the stride, assuming equal steps.</li>")
    if gaps:
        rows = "".join(f"<tr><td>{escape(g.sensor)}</td><td>{g.t_start:.2f}</td><td>{g.t_end:.2f}</td>"
                       f"<td>{1e3 * (g.t_end - g.t_start):.0f}</td><td>{g.lost_samples:,}"
                       f"{'' if g.exact else ' (estimated)'}</td><td>{escape(g.cause)}</td></tr>" for g in gaps)
        gap_table = ("<div class=\"scroll\"><table><thead><tr><th>Sensor</th><th>From<br><span class=\"unit\">s</span>"
                     "</th><th>To<br>"
                     "<span class=\"unit\">s</span></th><th>Length<br><span class=\"unit\">ms</span></th>"
                     f"<th>Lost samples</th><th>Cause</th></tr></thead><tbody>{rows}</tbody></table></div>")
    else:
        gap_table = "<p>No gaps were marked by the acquisition.</p>"
    notes = f"<p>{escape(meta.notes)}</p>" if meta and meta.notes else ""
    return f"<h3>Sensors and gaps</h3><ul>{''.join(items)}</ul>{gap_table}{notes}"
