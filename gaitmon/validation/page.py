"""``validation.html``: one self-contained page a coach can read and a scientist can cite.

Top to bottom: what was compared with what (files, reference kind, how the clocks were aligned and
how sure that is); the headline in plain words (contact time and flight time: bias and the range
that holds 95 % of steps); the table of every metric and phase; a Bland–Altman plot per duration
(difference against mean, bias and 95 % limits of agreement); IC and TO errors along the session;
and the aligned contact sequences of both systems, so anyone can see that the right steps were paired.
Inline SVG only (:mod:`gaitmon.report.svg`), no script, prints.
"""

from __future__ import annotations

import math
from html import escape
import numpy as np

from gaitmon._version import __version__
from gaitmon.report.style import CSS, INK, LEG_COLOUR, LEG_MARKER, MUTED, WIDTH
from gaitmon.report.svg import Frame, axes, legend, line, marker_path, nice_ticks, padded_range, rect, svg, text
from gaitmon.validation.comparison import METRIC, METRICS, Validation

#: Longest stretch of the aligned contact sequences drawn per recording, s.
SEQUENCE_WINDOW_S = 12.0
UNKNOWN_FOOT_COLOUR = "#444444"


def _fmt(value: float, template: str) -> str:
    return "–" if not math.isfinite(value) else template.format(value).replace("-", "−")


def _colour(side: str) -> str:
    return LEG_COLOUR.get(side, UNKNOWN_FOOT_COLOUR)


def bland_altman_svg(metric_key: str, gaitmon: np.ndarray, reference: np.ndarray, sides: list[str],
                     row: dict) -> str:
    """Difference (gaitmon − reference) against the mean of the two, with bias and 95 % limits."""
    m = METRIC[metric_key]
    mean = (gaitmon + reference) / 2 * m.scale
    diff = (gaitmon - reference) * m.scale
    bias, low, high = row["bias"], row["loa_low"], row["loa_high"]
    y_lo, y_hi = padded_range(np.concatenate([diff, [v for v in (low, high, 0.0) if math.isfinite(v)]]), 0.1)
    x_lo, x_hi = padded_range(mean)
    frame = Frame(70, 30, WIDTH - 250, 250, (x_lo, x_hi), (y_lo, y_hi))
    out = [axes(frame, nice_ticks(x_lo, x_hi), nice_ticks(y_lo, y_hi), x_title=f"mean of the two, {m.unit}",
                y_title=f"{m.label}: gaitmon − reference, {m.unit}")]
    out.append(line(frame.left, float(frame.y(0)), frame.right, float(frame.y(0)), MUTED, 1, "2 3"))
    for value, label, dash in ((bias, "bias", ""), (low, "−1.96 SD", "6 4"), (high, "+1.96 SD", "6 4")):
        if math.isfinite(value):
            y = float(frame.y(value))
            out.append(line(frame.left, y, frame.right, y, INK, 1.5, dash))
            out.append(text(frame.right + 8, y + 4, f"{label} {_fmt(value, '{:+.1f}' if m.unit == 'ms' else '{:+.2f}')}"
                            f" {m.unit}", 12))
    for side in sorted(set(sides)):
        sel = np.array([s == side for s in sides])
        out.append(marker_path(LEG_MARKER.get(side, "diamond"), frame.x(mean[sel]), frame.y(diff[sel]),
                               _colour(side), 4))
    feet = [(marker_path(LEG_MARKER.get(s, "diamond"), 0, 0, _colour(s), 4), s or "foot unknown")
            for s in sorted(set(sides))]
    out.append(legend(feet, frame.left + 10, frame.top + 12))
    return svg(WIDTH, 330, "".join(out), f"Bland–Altman plot of {m.label}: {len(diff)} steps")


def errors_svg(metric_key: str, values: tuple, sides_of: list[str]) -> str:
    """Event-time errors (gaitmon − reference, ms) along gaitmon's clock."""
    m = METRIC[metric_key]
    g, r, _phases, t = values
    diff = (g - r) * m.scale
    x_lo, x_hi = padded_range(t, 0.02)
    y_lo, y_hi = padded_range(np.concatenate([diff, [0.0]]), 0.1)
    frame = Frame(70, 30, WIDTH - 110, 170, (x_lo, x_hi), (y_lo, y_hi))
    out = [axes(frame, nice_ticks(x_lo, x_hi), nice_ticks(y_lo, y_hi, 4), x_title="time on gaitmon's clock, s",
                y_title=f"{m.label}: gaitmon − reference, ms")]
    out.append(line(frame.left, float(frame.y(0)), frame.right, float(frame.y(0)), MUTED, 1, "2 3"))
    for side in sorted(set(sides_of)):
        sel = np.array([s == side for s in sides_of])
        out.append(marker_path(LEG_MARKER.get(side, "diamond"), frame.x(t[sel]), frame.y(diff[sel]), _colour(side), 3.5))
    return svg(WIDTH, 240, "".join(out), f"{m.label} errors along the session")


def sequence_svg(comparison) -> str:
    """Both systems' contacts (bars from IC to TO) over the start of the reference's span."""
    start = comparison.span_s[0]
    end = min(comparison.span_s[1], start + SEQUENCE_WINDOW_S)
    frame = Frame(110, 20, WIDTH - 130, 90, (start, end), (0, 2))
    out = [axes(frame, nice_ticks(start, end, 8), (), x_title="time on gaitmon's clock, s")]
    rows = (("gaitmon", 1.12, lambda p: p.gaitmon), ("reference", 0.12, lambda p: p.reference))
    for label, base, get in rows:
        y = float(frame.y(base + 0.76))
        out.append(text(frame.left - 8, y + 24, label, 13, "end", bold=True))
        for pair in comparison.pairs:
            step = get(pair)
            if step is None or not (start - 1 <= step.ic_s <= end):
                continue
            to = step.to_s if math.isfinite(step.to_s) else step.ic_s + 0.01
            x0, x1 = float(frame.x(max(step.ic_s, start))), float(frame.x(min(to, end)))
            if x1 <= frame.left:
                continue
            alone = pair.gaitmon is None or pair.reference is None
            out.append(rect(x0, y, x1 - x0, 34, _colour(step.side), 1.0 if not alone else 0.35,
                            "#000000" if alone else ""))
    return svg(WIDTH, 160, "".join(out), "Aligned contact sequences of gaitmon and the reference")


def summary_table(summary: list[dict]) -> str:
    head = ("<tr><th>metric</th><th>phase</th><th>n matched</th><th>missed</th><th>extra</th>"
            "<th>bias <span class=unit>(95 % CI)</span></th><th>SD</th><th>MAE</th>"
            "<th>95 % limits of agreement</th><th>ICC(2,1)</th></tr>")
    body = []
    for r in summary:
        m = METRIC[r["metric"]]
        f = "{:+.1f}" if m.unit == "ms" else "{:+.3f}"
        g = f.replace("+", "")
        body.append(
            f"<tr><td class=text>{escape(m.label)} <span class=unit>{m.unit}</span></td>"
            f"<td class=text>{escape(r['phase'].replace('_', ' '))}</td><td>{r['n_matched']}</td>"
            f"<td>{r['missed']}</td><td>{r['extra']}</td>"
            f"<td>{_fmt(r['bias'], f)} <span class=unit>({_fmt(r['bias_ci_low'], f)}, "
            f"{_fmt(r['bias_ci_high'], f)})</span></td><td>{_fmt(r['sd'], g)}</td><td>{_fmt(r['mae'], g)}</td>"
            f"<td>{_fmt(r['loa_low'], f)} to {_fmt(r['loa_high'], f)}</td><td>{_fmt(r['icc_2_1'], '{:.3f}')}</td></tr>")
    return f'<div class="scroll"><table><thead>{head}</thead><tbody>{"".join(body)}</tbody></table></div>'


def headline(summary: list[dict]) -> str:
    """Plain sentences for the durations a coach reads: contact and flight time."""
    out = []
    for key in ("contact", "flight"):
        row = next((r for r in summary if r["metric"] == key and r["phase"] == "all"), None)
        if row is None or not row["n_matched"]:
            continue
        label = METRIC[key].label
        longer = "longer" if row["bias"] > 0 else "shorter"
        spread = (f"; 95 % of steps lie between {_fmt(row['loa_low'], '{:+.0f}')} and "
                  f"{_fmt(row['loa_high'], '{:+.0f}')} ms of the reference" if math.isfinite(row["loa_low"]) else "")
        out.append(f"<li><b>{label.capitalize()}</b>: gaitmon reads {abs(row['bias']):.0f} ms {longer} than the "
                   f"reference on average (over {row['n_matched']} steps){spread}.</li>")
    return f"<ul class=lead>{''.join(out)}</ul>" if out else ""


def recordings_html(validation: Validation) -> str:
    items = []
    for side, reference, comparison in validation.recordings:
        a = comparison.alignment
        notes = "".join(f"<li>{escape(n)}</li>" for n in reference.notes)
        items.append(
            f"<h3>{escape(side.path.name)} ↔ {escape(reference.path.name)}</h3>"
            f"<p>gaitmon: <code>{escape(str(side.path))}</code>, {len(side.steps)} contacts"
            f"{', ' + escape(side.athlete) if side.athlete else ''}. Reference: <code>{escape(str(reference.path))}"
            f"</code>, read as <b>{escape(reference.kind)}</b>, {len(reference.steps)} contacts.</p>"
            f"<p><b>Alignment</b>: {escape(a.text())}.</p>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "<figure><figcaption>Aligned contact sequences (first "
            f"{SEQUENCE_WINDOW_S:g} s of the reference's span; faint bars with a border: seen by one system only)"
            f"</figcaption>{sequence_svg(comparison)}</figure>")
    return "".join(items)


def render_page(validation: Validation, command: str = "") -> str:
    """The whole page as one HTML string."""
    summary = validation.summary
    athlete = next((s.athlete for s, _, _ in validation.recordings if s.athlete), "")
    title = "gaitmon validation" + (f" — {athlete}" if athlete else "")
    plots = []
    for metric in METRICS:
        row = next((r for r in summary if r["metric"] == metric.key and r["phase"] == "all"), None)
        g = np.concatenate([c.values[metric.key][0] for _, _, c in validation.recordings])
        r = np.concatenate([c.values[metric.key][1] for _, _, c in validation.recordings])
        if row is None or len(g) < 2:
            continue
        sides = [s for _, _, c in validation.recordings for s in c.sides[metric.key]]
        if metric.kind == "duration":
            plots.append(f"<figure><figcaption>{escape(metric.label.capitalize())}: Bland–Altman plot "
                         f"({len(g)} steps)</figcaption>{bland_altman_svg(metric.key, g, r, sides, row)}</figure>")
        else:
            values = tuple(np.concatenate([np.asarray(c.values[metric.key][i]) for _, _, c in validation.recordings])
                           for i in (0, 1, 2, 3))
            plots.append(f"<figure><figcaption>{escape(metric.label.capitalize())}: error of each matched event"
                         f"</figcaption>{errors_svg(metric.key, values, sides)}</figure>")
    searched = any(c.alignment.method == "contact sequence" for _, _, c in validation.recordings)
    caveat = ("<p class=lead>The clocks were aligned from the contact sequence, so the offset absorbs gaitmon's "
              "mean initial-contact bias: initial-contact errors are relative to the alignment (their mean is "
              "near 0 by construction), toe-off errors are relative to initial contact. Durations — contact, "
              "flight and step time, step frequency — do not depend on the alignment.</p>" if searched else "")
    return "".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p class=lead>gaitmon's steps against the athlete's reference system, step by step: "
        f"{sum(len(c.pairs) for _, _, c in validation.recordings)} contacts over {len(validation.recordings)} "
        f"recording(s); contacts paired by initial contact within ±{validation.tolerance_s * 1e3:g} ms. "
        "Differences are gaitmon − reference.</p>",
        headline(summary), caveat,
        "<h2>Agreement</h2>", summary_table(summary),
        "<h2>Plots</h2>", "".join(plots),
        "<h2>What was compared</h2>", recordings_html(validation),
        f"<footer>gaitmon {escape(__version__)}{' · ' + escape(command) if command else ''}. Bias with its 95 % "
        "confidence interval (Student t); 95 % limits of agreement = bias ± 1.96 SD (Bland &amp; Altman 1986); "
        "ICC(2,1): two-way random effects, absolute agreement, single measurement (Shrout &amp; Fleiss 1979). "
        "Phases come from gaitmon's rep segmentation. Per-step values: validation.csv; this table: summary.csv."
        "</footer></body></html>",
    ])

