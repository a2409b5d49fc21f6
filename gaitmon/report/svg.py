"""Chart primitives: inline SVG strings drawn from numpy, pure functions of numbers.

A :class:`Frame` maps data ranges onto a box in SVG user units (a chart is
:data:`~gaitmon.report.style.WIDTH` wide); :func:`axes` draws its grid, ticks (:func:`nice_ticks`)
and titles; :func:`text`, :func:`line`, :func:`rect`, :func:`markers` and :func:`legend` are the
elements; :func:`svg` wraps a chart. :func:`trace_path` draws a long signal as a min/max-decimated
line (:func:`decimate_minmax`), broken at holes in the data (:func:`hole_threshold_s`, s). Every
text is escaped. Nothing here knows steps, reps or flags.

Cost: a chart of a long session stays linear in what it shows. Time series are sorted by time, so
the samples of a time window are found by binary search (:func:`time_window`), never by a mask over
the whole series; path data and markers are formatted for all points at once (:func:`format_rows`,
byte-identical to formatting each coordinate with ``f"{v:.1f}"``).
"""

from __future__ import annotations

import functools
import itertools
import math
import string
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from gaitmon.io import _format
from gaitmon.report.style import FONT, GRID, INK


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


def nice_ticks(lo: float, hi: float, most: int = 6, least_step: float = 0.0) -> np.ndarray:
    """Round values in ``[lo, hi]``: the finest step of 1, 2, 2.5 or 5 × 10ⁿ giving at most
    ``most + 1`` of them. With ``least_step`` the step is a multiple of it (1: whole numbers).

    The one tick rule of gaitmon's charts: the report's and the dashboard's axes both use it.
    """
    step = 10.0 ** math.floor(math.log10(max(hi - lo, least_step, 1e-9) / most))
    while True:
        for factor in (1.0, 2.0, 2.5, 5.0):
            size = factor * step
            whole = not least_step or math.isclose(size / least_step, round(size / least_step))
            first, last = math.ceil(lo / size - 1e-9), math.floor(hi / size + 1e-9)
            if size >= least_step and whole and last - first <= most:
                return np.arange(first, last + 1) * size
        step *= 10.0


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


#: Below this many rows Python formats them itself (cheaper than setting up the numpy blocks).
FEW_ROWS = 48


def format_rows(template: str, n: int, **fields) -> str:
    """``template.format(**row)`` for rows ``0 .. n-1``, concatenated, formatted in one vectorised pass.

    A field formatted ``{name:.1f}`` takes an array of ``n`` numbers (one per row); any other field
    (``{r}``) takes one value, the same in every row; a field given as ``(texts, codes)`` is
    ``texts[codes[i]]`` in row ``i``. The text is identical to formatting each row with
    :meth:`str.format` (numbers go through :func:`gaitmon.io._format.f1_block`); Python does it
    row by row only when there are few rows or a number lies outside the fixed layout (not
    finite, or ``|v| ≥ 9.9e6``).
    """
    pieces: list = []
    for literal, name, spec in _parsed(template):
        if literal:
            pieces.append(literal)
        if name is None:
            continue
        value = fields[name]
        if isinstance(value, tuple):
            pieces.append((list(value[0]), np.asarray(value[1], dtype=np.intp)))
        elif spec == ".1f" and np.ndim(value):
            pieces.append(np.asarray(value, dtype=np.float64))
        else:
            pieces.append(format(value, spec))
    columns = [p for p in pieces if isinstance(p, np.ndarray)]
    numbers = np.concatenate(columns) if columns else np.empty(0)
    if n < FEW_ROWS or not (np.isfinite(numbers).all() and np.abs(numbers).max(initial=0.0) < _format.F1_LIMIT):
        columns_text = [itertools.repeat(p, n) if isinstance(p, str) else ["%.1f" % v for v in p.tolist()]
                        if isinstance(p, np.ndarray) else [p[0][k] for k in p[1].tolist()] for p in pieces]
        return "".join(map("".join, zip(*columns_text)))
    digits = np.split(_format.f1_block(numbers), len(columns), axis=1) if columns else []  # one pass for all
    blocks = [p.encode("ascii") if isinstance(p, str) else digits.pop(0) if isinstance(p, np.ndarray)
              else _format.text_block(*p) for p in pieces]
    return _format.join_slots(blocks, n).decode("ascii")


@functools.lru_cache(maxsize=64)
def _parsed(template: str) -> tuple[tuple[str, str | None, str], ...]:
    """``template``'s literal texts and fields (a handful of templates recur thousands of times)."""
    return tuple((literal, name, spec) for literal, name, spec, _ in string.Formatter().parse(template))


def path_data(x: np.ndarray, y: np.ndarray, breaks: np.ndarray | Sequence[int] = ()) -> str:
    """SVG path data through the points, starting a new sub-path at each index in ``breaks``."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    move = np.zeros(len(x), dtype=np.intp)
    if len(x):
        move[0] = 1
        move[[b for b in np.asarray(breaks, dtype=np.intp).tolist() if 0 < b < len(x)]] = 1
    return format_rows("{cmd}{x:.1f} {y:.1f}", len(x), cmd=(("L", "M"), move), x=x, y=y)


#: Path data of one marker (centre x, y; left l, right rr, top t, bottom b; radius r, diameter d).
MARKER_SHAPES = {
    "circle": "M{l:.1f} {y:.1f}a{r} {r} 0 1 0 {d} 0a{r} {r} 0 1 0 -{d} 0z",
    "square": "M{l:.1f} {t:.1f}h{d}v{d}h-{d}z",
    "diamond": "M{x:.1f} {t:.1f}L{rr:.1f} {y:.1f}L{x:.1f} {b:.1f}L{l:.1f} {y:.1f}z",
    "up": "M{x:.1f} {t:.1f}L{rr:.1f} {b:.1f}L{l:.1f} {b:.1f}z",
    "down": "M{x:.1f} {b:.1f}L{rr:.1f} {t:.1f}L{l:.1f} {t:.1f}z",
}


def markers(shape: str, x, y, r: float = 3.5) -> str:
    """Path data of one marker per point with finite x and y: circle, square, diamond, up or down (triangles)."""
    template = MARKER_SHAPES[shape]
    x, y = np.atleast_1d(np.asarray(x, dtype=np.float64)), np.atleast_1d(np.asarray(y, dtype=np.float64))
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    return format_rows(template, len(x), x=x, y=y, l=x - r, rr=x + r, t=y - r, b=y + r, r=r, d=2 * r)


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
    segment = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(t)]))  # t is sorted: runs
    lowest = np.flatnonzero(y == np.minimum.reduceat(y, starts)[segment])  # each column's first minimum
    lowest = lowest[np.r_[True, segment[lowest[1:]] != segment[lowest[:-1]]]]
    highest = np.flatnonzero(y == np.maximum.reduceat(y, starts)[segment])  # and its last maximum
    highest = highest[np.r_[segment[highest[1:]] != segment[highest[:-1]], True]]
    chosen = np.zeros(len(t), dtype=bool)
    chosen[lowest] = chosen[highest] = True
    return t[chosen], y[chosen]


def hole_threshold_s(t: np.ndarray) -> float:
    """A pause between samples longer than this is a hole in the data (not one dropped sample)."""
    return hole_threshold_for(float(np.median(np.diff(t)))) if len(t) > 1 else 0.05


def hole_threshold_for(period_s: float) -> float:
    """:func:`hole_threshold_s` of samples whose median interval is ``period_s``."""
    return max(0.05, 5.0 * period_s)


def time_window(t: np.ndarray, lo: float, hi: float) -> slice:
    """The samples of the time-sorted ``t`` (s) inside ``[lo, hi]``, found by binary search."""
    return slice(int(np.searchsorted(t, lo, side="left")), int(np.searchsorted(t, hi, side="right")))


def trace_path(frame: Frame, t: np.ndarray, y: np.ndarray, colour: str) -> str:
    """A min/max-decimated line of (t, y) over the frame, broken where samples are missing (``t`` sorted)."""
    columns = max(1, int(frame.width))
    inside = time_window(t, *frame.x_range)
    hole_s = hole_threshold_s(t[inside])
    t, y = decimate_minmax(t[inside], y[inside], *frame.x_range, columns)
    if not len(t):
        return ""
    column_s = (frame.x_range[1] - frame.x_range[0]) / columns
    breaks = np.flatnonzero(np.diff(t) > max(hole_s, 2.5 * column_s)) + 1
    d = path_data(frame.x(t), frame.y(y), breaks)
    return f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.4" stroke-linejoin="round"/>'
