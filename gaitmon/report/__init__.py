"""A session report for the coach: one self-contained HTML file to open from a USB stick.

:func:`write_report` writes, top to bottom: who and what was recorded and the strength-balance
flags (banners with their sentence and the trends they rest on); the sagittal shank angular
velocity of each rep with its gait events, one panel per rep behind a selector; the per-step
metrics of the session; left against right and the swing-versus-push view per rep; the rep table
and notes on the sensors and gaps in the data.

The file references nothing outside itself: inline CSS, charts drawn as inline SVG from numpy by
the small helpers below (:class:`Frame`, :func:`axes`, :func:`trace_path`, :func:`decimate_minmax`),
no script at all (the rep selector is CSS radio buttons). Every text from outside (athlete name,
sensor labels) goes through :func:`html.escape`. Legs are told apart by colour *and* marker shape
(Okabe & Ito's colour-blind-safe blue and vermillion), and everything prints.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

from gaitmon.analysis import REP_COLUMNS, Flag, Rep
from gaitmon.analysis.result import AnalysisResult
from gaitmon.analysis.flags import SCALE_UNITS
from gaitmon.analysis.reps import asymmetry_pct, running_bouts
from gaitmon.analysis.trends import theil_sen
from gaitmon.consts import GYRO_COLUMNS
from gaitmon.stream.orientation import SagittalProjector, sagittal_axis
from gaitmon.session.meta import SessionMeta
from gaitmon.stream.timing import GapMark


LEGS = ("left", "right")
LEG_COLOUR = {"left": "#0072B2", "right": "#D55E00"}
LEG_MARKER = {"left": "circle", "right": "square"}
SWING_COLOUR = "#009E73"
PUSH_COLOUR = "#A23B8A"
INK = "#111111"
MUTED = "#555555"
GRID = "#d4d4d4"
CONTACT_FILL = "#e2e2e2"
TOP_SPEED_FILL = "#ececec"
GAP_FILL = "#F0E442"
FONT = "Segoe UI, Helvetica, Arial, sans-serif"

#: Width of every chart (SVG user units; shown at up to this many CSS pixels).
WIDTH = 960
#: Seconds shown before a rep's first contact (the push-off from the start) and after its end.
REP_PAD_S = (1.0, 0.5)
#: Length of the trace shown when there are no reps, s.
NO_REP_TRACE_S = 10.0
#: Reps of the strength-balance trend lines (the flag's own window).
TREND_WINDOW = 6

STEP_METRICS = (
    ("contact_s", "Contact time", "ms", 1e3),
    ("flight_s", "Flight time", "ms", 1e3),
    ("step_hz", "Step frequency", "Hz", 1.0),
    ("swing_peak_rad_s", "Swing side: peak swing angular velocity", "rad/s", 1.0),
    ("push_force_bw", "Push side: peak force estimate", "× body weight", 1.0),
)

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

BASELINES = {"steps": "the same steps of the earlier reps", "reps": "the first rep",
             "sessions": "the first session"}


# -- SVG helpers -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    """A plot area: a pixel box and the data ranges it maps onto it."""

    left: float
    top: float
    width: float
    height: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def x(self, value):
        lo, hi = self.x_range
        return self.left + (np.asarray(value, dtype=float) - lo) / (hi - lo) * self.width

    def y(self, value):
        lo, hi = self.y_range
        return self.bottom - (np.asarray(value, dtype=float) - lo) / (hi - lo) * self.height


def padded_range(values, pad: float = 0.06) -> tuple[float, float]:
    """(low, high) around the finite ``values`` with ``pad`` of the span on each side; (0, 1) if none."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    span = max(hi - lo, 0.05 * abs(hi), 1e-6)
    middle = 0.5 * (lo + hi)
    return middle - span * (0.5 + pad), middle + span * (0.5 + pad)


def nice_ticks(lo: float, hi: float, target: int = 5) -> np.ndarray:
    """Round tick values (1, 2, 2.5 or 5 × 10ⁿ apart) inside [lo, hi], about ``target`` of them."""
    raw = (hi - lo) / max(target, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = first + step * np.arange(int(math.floor((hi - first) / step + 1e-9)) + 1)
    return nice_ticks(lo, hi, 2 * target) if len(ticks) < 2 and target < 16 else ticks


def tick_label(value: float, ticks: np.ndarray) -> str:
    """``value`` with as many decimals as the tick spacing needs, and a true minus sign."""
    step = float(np.min(np.diff(ticks))) if len(ticks) > 1 else 1.0
    decimals = 0
    while decimals < 3 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
        decimals += 1
    label = f"{value:.{decimals}f}"
    return "0" if float(label) == 0 else label.replace("-", "−")


def text(x: float, y: float, content: str, size: float = 13, anchor: str = "start", fill: str = INK,
         bold: bool = False) -> str:
    """An SVG text element (``content`` is escaped)."""
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" fill="{fill}"'
            f'{weight}>{escape(content)}</text>')


def line(x1: float, y1: float, x2: float, y2: float, stroke: str = INK, width: float = 1.0, dash: str = "") -> str:
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
            f'stroke-width="{width:g}"{dashes}/>')


def rect(x: float, y: float, w: float, h: float, fill: str, opacity: float = 1.0, stroke: str = "") -> str:
    extra = f' fill-opacity="{opacity:g}"' if opacity < 1 else ""
    extra += f' stroke="{stroke}"' if stroke else ""
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{fill}"{extra}/>'


def svg(width: float, height: float, body: str, label: str) -> str:
    """An inline SVG chart (no namespace URL: the HTML parser supplies it), titled for screen readers."""
    return (f'<svg viewBox="0 0 {width:g} {height:g}" width="{width:g}" height="{height:g}" role="img" '
            f'aria-label="{escape(label)}" font-family="{FONT}"><title>{escape(label)}</title>{body}</svg>')


def axes(frame: Frame, x_ticks=(), y_ticks=(), x_offset: float = 0.0, y_labels: bool = True,
         x_title: str = "", y_title: str = "", x_labels=None) -> str:
    """Grid lines, ticks with labels, the two axis lines and the titles of ``frame``.

    Parameters
    ----------
    x_offset : float
        Subtracted from the x tick values for their labels (time since a rep's start).
    y_labels : bool
        Label the y ticks (off for all but the first of side-by-side frames).
    y_title : str
        Drawn horizontally above the frame's top-left corner (easier to read than rotated).
    x_labels : sequence of str, optional
        Labels of the x ticks instead of their values (categories such as rep numbers).
    """
    out = []
    for value in y_ticks:
        y = float(frame.y(value))
        out.append(line(frame.left, y, frame.right, y, GRID))
        if y_labels:
            out.append(text(frame.left - 6, y + 4.5, tick_label(value, np.asarray(y_ticks)), 12, "end"))
    for i, value in enumerate(x_ticks):
        x = float(frame.x(value))
        out.append(line(x, frame.bottom, x, frame.bottom + 5, INK))
        label = x_labels[i] if x_labels is not None else tick_label(value - x_offset, np.asarray(x_ticks))
        out.append(text(x, frame.bottom + 18, label, 12, "middle"))
    out.append(line(frame.left, frame.top, frame.left, frame.bottom, INK))
    out.append(line(frame.left, frame.bottom, frame.right, frame.bottom, INK))
    if y_title:
        out.append(text(frame.left, frame.top - 8, y_title, 13, bold=True))
    if x_title:
        out.append(text(frame.left + frame.width / 2, frame.bottom + 36, x_title, 13, "middle"))
    return "".join(out)


def path_data(x: np.ndarray, y: np.ndarray, breaks: np.ndarray | Sequence[int] = ()) -> str:
    """SVG path data through the points, starting a new sub-path at each index in ``breaks``."""
    parts = np.split(np.column_stack([x, y]), breaks)
    return "".join("M" + "L".join(f"{a:.1f} {b:.1f}" for a, b in part.tolist()) for part in parts if len(part))


def markers(shape: str, x, y, r: float = 3.5) -> str:
    """Path data of one marker per point: circle, square, diamond, up or down (triangles)."""
    shapes = {
        "circle": "M{l:.1f} {y:.1f}a{r} {r} 0 1 0 {d} 0a{r} {r} 0 1 0 -{d} 0z",
        "square": "M{l:.1f} {t:.1f}h{d}v{d}h-{d}z",
        "diamond": "M{x:.1f} {t:.1f}L{rr:.1f} {y:.1f}L{x:.1f} {b:.1f}L{l:.1f} {y:.1f}z",
        "up": "M{x:.1f} {t:.1f}L{rr:.1f} {b:.1f}L{l:.1f} {b:.1f}z",
        "down": "M{x:.1f} {b:.1f}L{rr:.1f} {t:.1f}L{l:.1f} {t:.1f}z",
    }
    template = shapes[shape]
    return "".join(template.format(x=a, y=b, l=a - r, rr=a + r, t=b - r, b=b + r, r=r, d=2 * r)
                   for a, b in zip(np.atleast_1d(x).tolist(), np.atleast_1d(y).tolist())
                   if math.isfinite(a) and math.isfinite(b))


def marker_path(shape: str, x, y, fill: str, r: float = 3.5, stroke: str = "#ffffff") -> str:
    d = markers(shape, x, y, r)
    return f'<path d="{d}" fill="{fill}" stroke="{stroke}" stroke-width="0.8"/>' if d else ""


def legend(items: Sequence[tuple[str, str]], x: float, y: float, size: float = 12) -> str:
    """A row of (swatch SVG placed at the origin, label) pairs starting at (x, y)."""
    out = []
    for swatch, label in items:
        out.append(f'<g transform="translate({x:.1f} {y:.1f})">{swatch}</g>')
        out.append(text(x + 14, y + 4, label, size))
        x += 40 + 0.58 * size * len(label)
    return "".join(out)


def decimate_minmax(t: np.ndarray, y: np.ndarray, t0: float, t1: float, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """The samples of [t0, t1] reduced to each pixel column's minimum and maximum, in time order.

    A line through them covers exactly the pixels the full-rate line would: peaks are never cut,
    and a 1 kHz rep costs at most ``2 × columns`` points.
    """
    keep = (t >= t0) & (t <= t1) & np.isfinite(y)
    t, y = t[keep], y[keep]
    if len(t) <= 2 * columns:
        return t, y
    column = np.minimum(((t - t0) / (t1 - t0) * columns).astype(np.int64), columns - 1)
    starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
    ends = np.r_[starts[1:], len(t)] - 1
    by_value = np.lexsort((y, column))  # within each column (t is sorted) from smallest to largest y
    index = np.unique(np.concatenate([by_value[starts], by_value[ends]]))
    return t[index], y[index]


def trace_path(frame: Frame, t: np.ndarray, y: np.ndarray, colour: str) -> str:
    """A min/max-decimated line of (t, y) over the frame, broken where samples are missing."""
    columns = max(1, int(frame.width))
    inside = (t >= frame.x_range[0]) & (t <= frame.x_range[1])
    hole_s = hole_threshold_s(t[inside])
    t, y = decimate_minmax(t[inside], y[inside], *frame.x_range, columns)
    if not len(t):
        return ""
    column_s = (frame.x_range[1] - frame.x_range[0]) / columns
    breaks = np.flatnonzero(np.diff(t) > max(hole_s, 2.5 * column_s)) + 1
    d = path_data(frame.x(t), frame.y(y), breaks)
    return f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.4" stroke-linejoin="round"/>'


# -- data preparation --------------------------------------------------------------------------------

def sagittal_traces(samples: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """side → (t, ω): the sagittal angular velocity the detector saw (swing forward positive), rad/s.

    When the streaming projector never saw enough motion to lock (a short walk), the axis comes from
    the whole recording instead; a leg without any rotation is left out.
    """
    traces = {}
    for side, (t, x) in samples.items():
        projector = SagittalProjector()
        t_out, omega, _ = projector.feed(t, x)
        if not projector.locked:
            try:
                axis = sagittal_axis(np.asarray(x)[:, GYRO_COLUMNS])
            except ValueError:
                continue
            t_out, omega, _ = SagittalProjector(axis=axis).feed(t, x)
        if len(t_out) > 1:
            traces[side] = (t_out, omega)
    return traces


def hole_threshold_s(t: np.ndarray) -> float:
    """A pause between samples longer than this is a hole in the data (not one dropped sample)."""
    return max(0.05, 5.0 * float(np.median(np.diff(t)))) if len(t) > 1 else 0.05


def top_speed_swing(rep: Rep) -> float:
    """Median swing peak of the rep's top-speed steps, both legs (rad/s): how fast the rep was."""
    values = np.array([r["swing_peak_rad_s"] for r in rep.top_speed], dtype=float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else float("nan")


def default_rep(reps: list[Rep], flags: list[Flag]) -> int:
    """The rep shown first: the first one a flag was raised on, else the fastest (highest swing peak)."""
    numbers = {rep.number for rep in reps}
    flagged = [flag.rep for flag in flags if flag.alarm and flag.rep in numbers]
    if flagged:
        return min(flagged)
    peaks = np.array([top_speed_swing(rep) for rep in reps])
    return reps[int(np.nanargmax(peaks))].number if np.isfinite(peaks).any() else reps[0].number


def no_reps_reason(steps: list[dict]) -> str:
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


def fmt(value, template: str = "{:.1f}", scale: float = 1.0) -> str:
    """``value × scale`` formatted, or an en dash when it is missing or not a finite number."""
    if isinstance(value, str):
        return template.format(value)
    if value is None or not math.isfinite(value):
        return "–"
    return template.format(value * scale).replace("-", "−")


# -- section 1: header and flags --------------------------------------------------------------------

def session_facts(result: AnalysisResult, samples, meta: SessionMeta | None) -> list[tuple[str, str]]:
    """(label, value) pairs of the header: athlete, date, sensors, duration, steps, reps."""
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
    legs = ", ".join(f"{sum(r['side'] == side for r in result.steps)} {side}" for side in result.sides)
    return [
        ("Athlete", athlete), ("Date", date), ("Sensors", f"{result.placement} · {sensors}"),
        ("Duration", f"{int(duration // 60)} min {duration % 60:04.1f} s"),
        ("Steps", f"{len(result.steps)}" + (f" ({legs})" if legs else "")),
        ("Reps", str(len(result.balance.reps))),
    ]


def header_html(facts: list[tuple[str, str]]) -> str:
    items = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in facts)
    return f'<header><h1>Sprint session report</h1><dl class="facts">{items}</dl></header>'


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
    return svg(400, 100, "".join(out), f"Trends behind the flag, % per {unit}, with confidence intervals")


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


# -- section 2: gyro traces with events --------------------------------------------------------------

def rep_phases(rep: Rep) -> list[tuple[str, float, float]]:
    """(name, start, end) of the acceleration, top-speed and deceleration phases of a rep, s."""
    def span(rows):
        end = rows[-1]["to_s"] if math.isfinite(rows[-1]["to_s"]) else rows[-1]["ic_s"]
        return rows[0]["ic_s"], end
    phases = [(name, *span(rows)) for name, rows in
              (("acceleration", rep.acceleration), ("top speed", rep.top_speed), ("slowing", rep.deceleration))
              if rows]
    return [(name, start, phases[i + 1][1] if i + 1 < len(phases) else end)
            for i, (name, start, end) in enumerate(phases)]


EVENT_SHAPES = (("TO", "up", "toe-off (TO)"), ("MSW", "circle", "mid-swing peak (MSW)"),
                ("IC", "down", "initial contact (IC)"))


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


def leg_shading(frame: Frame, side: str, steps, gaps: Sequence[GapMark]) -> str:
    """One leg's contacts (IC to TO) shaded and its gaps marked over the frame's time span."""
    lo, hi = frame.x_range
    out = []
    for step in steps:
        if step["side"] == side and math.isfinite(step["to_s"]) and step["to_s"] > lo and step["ic_s"] < hi:
            x0, x1 = float(frame.x(max(step["ic_s"], lo))), float(frame.x(min(step["to_s"], hi)))
            out.append(rect(x0, frame.top, x1 - x0, frame.height, CONTACT_FILL))
    for gap in gaps:
        x0, x1 = float(frame.x(max(gap.t_start, lo))), float(frame.x(min(gap.t_end, hi)))
        out.append(rect(x0, frame.top, max(x1 - x0, 2.0), frame.height, GAP_FILL, 0.7, MUTED))
    return "".join(out)


def leg_trace(frame: Frame, side: str, trace: tuple[np.ndarray, np.ndarray], events) -> str:
    """One leg's ω line over the frame's time span with its TO / MSW / IC markers."""
    lo, hi = frame.x_range
    t, omega = trace
    out = [line(frame.left, float(frame.y(0)), frame.right, float(frame.y(0)), MUTED, 0.8),
           trace_path(frame, t, omega, LEG_COLOUR[side])]
    for kind, shape, _ in EVENT_SHAPES:
        mine = [e for e in events if e.side == side and e.kind == kind and lo <= e.t <= hi]
        times = np.array([e.t for e in mine])
        values = np.array([e.value if math.isfinite(e.value) else np.interp(e.t, t, omega) for e in mine])
        out.append(marker_path(shape, frame.x(times), frame.y(values), INK, 4.5))
    return "".join(out)


def trace_svg(window: tuple[float, float], traces, events, steps, gaps: Sequence[GapMark],
              phases: Sequence[tuple[str, float, float]], label: str) -> str:
    """Stacked rows (one per leg, same scale) of ω over ``window``, under the rep's phases."""
    sides = [side for side in LEGS if side in traces] or sorted(traces)
    left, row_h, row_gap, top = 62, 150, 34, 78 if phases else 56
    inside = {side: (traces[side][0] >= window[0]) & (traces[side][0] <= window[1]) for side in sides}
    y_range = padded_range(np.concatenate([traces[side][1][inside[side]] for side in sides]), 0.04)
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
        out.append(leg_trace(frame, side, traces[side], events))
    return svg(WIDTH, top + len(sides) * (row_h + row_gap) + 20, "".join(out), label)


def traces_html(result: AnalysisResult, traces, gaps: Sequence[GapMark]) -> str:
    """One panel per rep behind a CSS-only selector; or the first seconds and why there are no reps."""
    reps, flags = result.balance.reps, result.balance.flags
    head = ('<section id="traces"><h2>Gyro traces and gait events</h2><p class="lead">Sagittal angular '
            "velocity of each shank (swinging forward is positive), with the events gaitmon detected.</p>")
    if not traces:
        return head + "<p>Too little movement in the recording to find the sagittal axis: no traces.</p></section>"
    if not reps:
        data_start = min(t[0] for t, _ in traces.values())
        data_end = max(t[-1] for t, _ in traces.values())
        first = max(data_start, min([e.t for e in result.events] or [data_start]) - 1.0)
        window = (first, min(first + NO_REP_TRACE_S, data_end))
        chart = trace_svg(window, traces, result.events, result.steps, gaps, (),
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
        chart = trace_svg(window, traces, result.events, rep.steps, gaps, rep_phases(rep), title)
        panels.append(f'<figure class="rep-panel" id="panel-{n}"><figcaption>{escape(title)}</figcaption>'
                      f"{chart}</figure>")
    why = ("the first rep a flag was raised on" if flagged & {r.number for r in reps}
           else "the fastest rep (highest swing peak)")
    return (head + f"<p>Pick a rep; shown first: rep {chosen}, {why}. ⚑ = flag raised at that rep.</p>"
            + "".join(radios) + f'<div class="tabs">{"".join(tabs)}</div>'
            + "".join(panels) + "</section>")


def rep_picker_css(reps: list[Rep]) -> str:
    """Show the panel of the checked rep and highlight its label (the selector needs no script)."""
    return "".join(f"#rep-{n}:checked~#panel-{n}{{display:block}}"
                   f"#rep-{n}:checked~.tabs [for=rep-{n}]{{background:{INK};color:#fff}}"
                   for n in (rep.number for rep in reps))


# -- section 3: per-step metrics ---------------------------------------------------------------------

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


def steps_svg(steps: list[dict], reps: list[Rep], sides: Sequence[str], flagged: set[int]) -> str:
    """Each metric against time, both legs; with reps, one segment per rep (walking between left out)."""
    if reps:
        spans = [(rep.start_s - 0.3, rep.end_s + 0.3) for rep in reps]
        groups = [rep.steps for rep in reps]
    else:
        times = [r["ic_s"] for r in steps]
        spans = [padded_range(times, 0.02)]
        groups = [steps]
    plotted = [row for group in groups for row in group]
    left, top, row_h, row_gap = 64, 84, 92, 40
    out = [legend([(marker_path(LEG_MARKER[side], 0, 0, LEG_COLOUR[side], 4.5), f"{side} leg") for side in sides]
                  + ([(rect(-6, -6, 12, 12, TOP_SPEED_FILL, stroke=MUTED), "top-speed steps (the rep's values)")]
                     if reps else []), left, 14)]
    for row, (key, name, unit, scale) in enumerate(STEP_METRICS):
        values = np.array([r[key] for r in plotted], dtype=float) * scale
        y_range = padded_range(values, 0.08)
        y_ticks = nice_ticks(*y_range, 4)
        frames = segment_frames(spans, left, WIDTH - left - 14, top + row * (row_h + row_gap), row_h, y_range)
        last = row == len(STEP_METRICS) - 1
        for i, (frame, group) in enumerate(zip(frames, groups)):
            if reps and reps[i].top_speed:
                a, b = reps[i].top_speed[0]["ic_s"], reps[i].top_speed[-1]["ic_s"]
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
                rows = [r for r in group if r["side"] == side]
                out.append(marker_path(LEG_MARKER[side], frame.x([r["ic_s"] for r in rows]),
                                       frame.y(np.array([r[key] for r in rows], dtype=float) * scale),
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


# -- section 4: left vs right, swing vs push ---------------------------------------------------------

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


def percent_of_first(reps: list[Rep], side: str, key: str) -> np.ndarray:
    """Each rep's top-speed median of ``key`` for one leg, in % of the first rep's (100 = first rep)."""
    values = np.array([rep.summary(side)[key] for rep in reps], dtype=float)
    base = values[0]
    return 100.0 * values / base if math.isfinite(base) and base > 0 else np.full(len(values), np.nan)


def trend_line(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Theil–Sen line over the last ``TREND_WINDOW`` points: its (x, y) at both ends, or None."""
    x, y = x[-TREND_WINDOW:], y[-TREND_WINDOW:]
    keep = np.isfinite(y)
    trend = theil_sen(x[keep], y[keep])
    if not trend.known:
        return None
    intercept = float(np.median(y[keep] - trend.slope * x[keep]))
    ends = np.array([x[keep][0], x[keep][-1]])
    return ends, intercept + trend.slope * ends


def balance_svg(reps: list[Rep], sides: Sequence[str], flags: list[Flag]) -> str:
    """Per leg: swing and push (% of the first rep) per rep, with trend lines over the last reps."""
    x = np.arange(1, len(reps) + 1, dtype=float)
    series = {side: {"swing": percent_of_first(reps, side, "swing_peak_rad_s"),
                     "push": percent_of_first(reps, side, "push_force_bw")} for side in sides}
    fits = {(side, what): trend_line(x, y) for side in sides for what, y in series[side].items()}
    everything = np.concatenate([v for s in series.values() for v in s.values()] + [np.array([100.0])]
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
        out.append(axes(frame, x, nice_ticks(*y_range, 4), y_title=f"{side.capitalize()} leg: % of rep 1",
                        x_labels=[str(rep.number) for rep in reps]))
        out.append(line(frame.left, float(frame.y(100)), frame.right, float(frame.y(100)), MUTED, 1, "2 2"))
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
    return svg(WIDTH, frames[0].bottom + 48, "".join(out), "Swing against push per rep, in % of the first rep")


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
            "<p class=\"lead\">Strength balance: each leg's swing and push outputs per rep in % of its first rep. "
            "The flag looks for push still rising while swing has levelled off (or the reverse). Dashed: a "
            f"robust (Theil–Sen) trend over the last {TREND_WINDOW} reps, the window the flag looks at; the "
            "flag's own slopes and confidence intervals are in the banners above. ⚑: a flag was raised at that "
            "rep.</p>"
            f"<figure>{balance_svg(reps, sides, result.balance.flags)}</figure></section>")


# -- section 5: tables and notes ---------------------------------------------------------------------

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


def sensor_notes_html(samples, gaps: Sequence[GapMark], meta: SessionMeta | None, steps: list[dict]) -> str:
    """Per sensor: samples, measured rate, holes in the data; the marked gaps; how flight was measured."""
    items = []
    for side, (t, _) in sorted(samples.items()):
        if len(t) < 2:
            items.append(f"<li><b>{escape(side)}</b>: {len(t)} samples — too few to use.</li>")
            continue
        dt = np.diff(t)
        period = float(np.median(dt))
        missing = int(np.sum(np.maximum(np.round(dt / period) - 1, 0)))
        holes = int(np.sum(dt > hole_threshold_s(t)))
        info = meta.sensors.get(side) if meta else None
        described = " ".join(part for part in (info.label or info.family, info.address) if part) if info else ""
        name = f" ({described})" if described else ""
        items.append(f"<li><b>{escape(side)}</b>{escape(name)}: {len(t):,} samples at {1 / period:.1f} Hz measured, "
                     f"{t[0]:.1f}–{t[-1]:.1f} s; about {missing:,} samples missing "
                     f"({100 * missing / (len(t) + missing):.2f} %), {holes} hole(s) longer than "
                     f"{1e3 * hole_threshold_s(t):.0f} ms (the trace is broken there).</li>")
    if any(r["flight_source"] == "one_leg_estimate" for r in steps):
        items.append("<li>One sensor only: flight time is estimated from the stride, assuming equal steps.</li>")
    if gaps:
        rows = "".join(f"<tr><td>{escape(g.sensor)}</td><td>{g.t_start:.2f}</td><td>{g.t_end:.2f}</td>"
                       f"<td>{1e3 * (g.t_end - g.t_start):.0f}</td><td>{g.lost_samples:,}"
                       f"{'' if g.exact else ' (estimated)'}</td><td>{escape(g.cause)}</td></tr>" for g in gaps)
        gap_table = ("<table><thead><tr><th>Sensor</th><th>From<br><span class=\"unit\">s</span></th><th>To<br>"
                     "<span class=\"unit\">s</span></th><th>Length<br><span class=\"unit\">ms</span></th>"
                     f"<th>Lost samples</th><th>Cause</th></tr></thead><tbody>{rows}</tbody></table>")
    else:
        gap_table = "<p>No gaps were marked by the acquisition.</p>"
    notes = f"<p>{escape(meta.notes)}</p>" if meta and meta.notes else ""
    return f"<h3>Sensors and gaps</h3><ul>{''.join(items)}</ul>{gap_table}{notes}"


# -- the page ------------------------------------------------------------------------------------------

CSS = """
*{box-sizing:border-box}
body{font:16px/1.45 Segoe UI,Helvetica,Arial,sans-serif;color:#111;background:#fff;margin:0 auto;
 max-width:1000px;padding:16px 20px 48px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
h1{font-size:26px;margin:0 0 8px}h2{font-size:21px;margin:32px 0 6px;border-bottom:2px solid #111}
h3{font-size:18px;margin:24px 0 6px}p{margin:6px 0}.lead{color:#333}.why{font-weight:600}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px;margin:0}
.facts div{border:1px solid #bbb;border-radius:6px;padding:6px 10px}
.facts dt{font-size:13px;color:#444}.facts dd{margin:0;font-weight:600}
.flag{display:flex;flex-wrap:wrap;gap:12px;align-items:center;border:2px solid #111;border-left-width:10px;
 border-radius:6px;padding:10px 14px;margin:10px 0;break-inside:avoid}
.flag>div{flex:1 1 380px}.flag svg{flex:0 1 400px}
.flag.alarm{background:#fff6d8}.flag.note,.flag.none{border-color:#888;background:#f5f5f5}
.flag .kind{font-weight:700;text-transform:uppercase;font-size:13px;letter-spacing:.05em}
.flag .sentence{font-size:18px;font-weight:600}.flag .basis{font-size:14px;color:#333}
svg{display:block;width:100%;height:auto;max-width:100%}
figure{margin:8px 0;break-inside:avoid}figcaption{font-weight:600;margin:4px 0}
.picker{position:absolute;opacity:0;pointer-events:none}
.tabs{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0}
.tabs label{border:1px solid #111;border-radius:4px;padding:4px 10px;cursor:pointer;background:#fff}
.picker:focus-visible~.tabs{outline:2px dashed #0072B2}
.rep-panel{display:none}
table{border-collapse:collapse;font-size:14px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #bbb;padding:3px 7px;text-align:right}th{background:#eee;vertical-align:bottom}
td.text{text-align:left}.unit{font-weight:400;color:#444;font-size:12px}
table.reps tbody{border-top:2px solid #111}tbody.flagged td{background:#fff6d8}.scroll{overflow-x:auto}
footer{margin-top:32px;font-size:13px;color:#444}
@media print{body{max-width:none;padding:0}.tabs{display:none}h2{break-after:avoid}}
"""


def render_report(result: AnalysisResult, samples: dict[str, tuple[np.ndarray, np.ndarray]],
                  meta: SessionMeta | None = None, gaps: Sequence[GapMark] = ()) -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    facts = session_facts(result, samples, meta)
    traces = sagittal_traces(samples)
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
