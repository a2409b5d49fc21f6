"""The coach's window (Qt through pyqtgraph's binding shim): it draws :class:`Snapshot` s, nothing else.

The window holds no session state. A ``QTimer`` on the GUI thread pulls the current athlete's
:meth:`Engine.snapshot` (immutable, a few hundred µs) and draws it; buttons and keys send the
engine's thread-safe commands, which never wait for the acquisition loop. :meth:`DashboardWindow.render`
draws any snapshot, so a headless run can paint one into a PNG (:func:`save_png`).

Drawing follows pyqtgraph's performance practice: 1-px cosmetic pens, numpy arrays to ``setData``,
only what is in view, peak downsampling (impact spikes stay visible), no OpenGL, and items made once
and re-filled. What made frames slow here (measured with ``benchmarks/bench_dashboard.py``) is
avoided: axes stand still (the traces' time axis ends "now" and the data move; ranges are set by the
window, not auto-ranged), grids are one path under the data rather than pyqtgraph's axis grids, and
plain curve and scatter items replace PlotDataItems. Only the traces are redrawn every frame; the
numbers, tables and strength-balance plots change only when a new analysis or health update
arrives, one of them per frame.

Layout, top to bottom: controls and recording state; the flag banner (sentence and evidence); the
current step's numbers for each leg in large type; traces (sagittal ω per leg with TO / MSW / IC
markers, gaps shaded, hand marks dashed; accelerometer magnitude) beside the strength-balance plots
(per leg: swing- and push-side output in % of the first rep, across reps and across the current
rep's steps, with trend lines and their confidence fans); the rep table and sensor health.

Keys (one hand, or a presenter clicker): Space / Page Down mark a rep, R starts or stops
recording, A / Page Up switch athlete, T switches theme, F or F11 full screen, Esc leaves it.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from gaitmon.dashboard.drawing import nice_ticks, peak_decimate
from gaitmon.engine.model import MARKER_KINDS, VISIBLE_S, RecordingState, Series, Snapshot, Step, TrendLine
#: Redraws per second.
FPS = 30
SIDES = ("left", "right")


@dataclass(frozen=True)
class Theme:
    """Colours of one theme (``#rrggbb``)."""

    name: str
    background: str
    foreground: str
    muted: str
    panel: str
    legs: dict
    markers: dict
    swing: str
    push: str
    alarm_bg: str
    alarm_fg: str
    note_bg: str
    ok: str
    warn: str
    bad: str
    gap: tuple


#: Black on white with saturated colours: readable in sunlight (the default).
OUTDOOR = Theme("outdoor", "#ffffff", "#000000", "#444444", "#ececec",
                {"left": "#0046c8", "right": "#c83200"}, {"TO": "#00802b", "MSW": "#7a1fa2", "IC": "#d10000"},
                "#6a00c8", "#000000", "#ffc400", "#000000", "#d8d8d8", "#00802b", "#b36b00", "#d10000",
                (200, 0, 0, 60))
#: Light on black for indoor or evening use.
INDOOR = Theme("indoor", "#000000", "#f2f2f2", "#b0b0b0", "#1c1c1c",
               {"left": "#5aa9ff", "right": "#ff8a3d"}, {"TO": "#3ddc84", "MSW": "#e08cff", "IC": "#ff5c5c"},
               "#c792ff", "#f2f2f2", "#ffc400", "#000000", "#333333", "#3ddc84", "#ffc400", "#ff5c5c",
               (255, 80, 80, 70))
THEMES = {theme.name: theme for theme in (OUTDOOR, INDOOR)}

#: Marker symbols: up for toe-off (the foot leaves), circle at mid-swing, down for initial contact.
SYMBOLS = {"TO": "t1", "MSW": "o", "IC": "t"}
#: The big numbers: (label, unit, Step attribute, scale, format).
NUMBERS = (("CONTACT", "ms", "contact_s", 1e3, "{:.0f}"),
           ("FLIGHT", "ms", "flight_s", 1e3, "{:.0f}"),
           ("STEP FREQ", "Hz", "step_hz", 1.0, "{:.2f}"),
           ("SWING PEAK", "rad/s", "swing_peak_rad_s", 1.0, "{:.1f}"),
           ("PUSH", "BW", "push_force_bw", 1.0, "{:.2f}"))
REP_COLUMNS = ("Rep", "Steps", "Contact ms", "Flight ms", "Step Hz", "Swing L", "Swing R", "Push L", "Push R",
               "Flag")
HEALTH_COLUMNS = ("Sensor", "State", "Rate Hz", "Lost", "Bad", "Battery")
#: What a new analysis redraws, in this order: banner and big numbers, rep table, balance plots.
ANALYSIS_PARTS = ("numbers", "reps", "balance left", "balance right")
#: Parts of the window redrawn only when their content changed (the traces are redrawn every frame).
PARTS = (*ANALYSIS_PARTS, "health")


def display_available() -> bool:
    """Whether a window can be shown (a desktop session; not ``QT_QPA_PLATFORM=offscreen``)."""
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def application(offscreen: bool = False) -> QtWidgets.QApplication:
    """The QApplication (made once; ``offscreen`` selects Qt's offscreen platform before that)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        if offscreen:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        pg.setConfigOptions(antialias=False, useOpenGL=False)
        QtCore.qInstallMessageHandler(_qt_message)
        app = QtWidgets.QApplication(["gaitmon"])
    return app


#: Qt messages that say nothing to a user (the offscreen platform cannot size windows by hints).
QUIET_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",)


def _qt_message(kind, context, message: str) -> None:
    if message not in QUIET_QT_MESSAGES:
        print(f"Qt: {message}", file=sys.stderr)


def _fmt(value: float, scale: float = 1.0, fmt: str = "{:.1f}") -> str:
    return fmt.format(value * scale) if value is not None and math.isfinite(value) else "–"


def _clock(seconds: float) -> str:
    seconds = max(0.0, seconds) if math.isfinite(seconds) else 0.0
    return f"{int(seconds // 60):02d}:{int(seconds % 60):02d}"


# -- panels -----------------------------------------------------------------------------------------


def _fixed_plot(plot: pg.PlotItem, axis_width: int) -> None:
    """A plot for looking at, not handling: no mouse zoom, menu or buttons (grid: :class:`StaticGrid`)."""
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.getAxis("left").setWidth(axis_width)


class StaticGrid:
    """Grid lines of a plot whose range rarely changes, as one path, with the axes' ticks at the lines.

    pyqtgraph's own grid belongs to the axis items: while any curve in the plot changes, each axis
    repaints its grid together with its tick labels (several ms per axis and frame). This grid is
    one opaque line path under the data.
    """

    def __init__(self, plot: pg.PlotItem, most_y: int = 6, least_step_x: float = 0.0):
        self.plot = plot
        self.most_y = most_y
        self.least_step_x = least_step_x
        self.path = pg.PlotCurveItem(connect="pairs")
        self.path.setZValue(-20)
        plot.addItem(self.path, ignoreBounds=True)
        self._ticks: dict[str, list] = {}

    def set(self, x_range: tuple[float, float], y_range: tuple[float, float], show_x_values: bool = True) -> None:
        """Set the plot's ranges, with lines at round values within them and the axes' ticks at the lines."""
        self.plot.setRange(xRange=x_range, yRange=y_range, padding=0)
        xs, ys = nice_ticks(*x_range, least_step=self.least_step_x), nice_ticks(*y_range, most=self.most_y)
        vertical = np.repeat(xs, 2), np.tile(y_range, len(xs))
        horizontal = np.tile(x_range, len(ys)), np.repeat(ys, 2)
        self.path.setData(np.concatenate([vertical[0], horizontal[0]]), np.concatenate([vertical[1], horizontal[1]]))
        for axis, ticks in (("left", [(y, f"{y:g}") for y in ys]),
                            ("bottom", [(x, f"{x:g}" if show_x_values else "") for x in xs])):
            if self._ticks.get(axis) != ticks:  # new ticks: the axis is laid out and drawn again
                self._ticks[axis] = ticks
                self.plot.getAxis(axis).setTicks([ticks, []])

    def colour(self, theme: "Theme") -> None:
        self.path.setPen(pg.mkPen(_mix(theme.foreground, theme.background, 0.2), width=1))


def _mix(a: str, b: str, share_a: float) -> str:
    """The opaque colour ``share_a`` of the way from ``b`` to ``a`` (what a translucent ``a`` over ``b`` shows)."""
    ca, cb = QtGui.QColor(a), QtGui.QColor(b)
    mixed = [round(share_a * x + (1.0 - share_a) * y) for x, y in zip(ca.getRgb()[:3], cb.getRgb()[:3])]
    return QtGui.QColor(*mixed).name()


def _colour_plots(widget: pg.GraphicsLayoutWidget, plots, theme: Theme) -> None:
    """Background and axes of ``widget``'s ``plots`` in ``theme``'s colours."""
    widget.setBackground(theme.background)
    for plot in plots:
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setPen(theme.foreground)
            plot.getAxis(axis).setTextPen(theme.foreground)


class TracePanel(pg.GraphicsLayoutWidget):
    """Sagittal ω of each leg (with event markers, gaps and hand marks) and |a| of both, over the last seconds."""

    def __init__(self, theme: Theme, visible_s: float = VISIBLE_S):
        super().__init__()
        self.setMinimumHeight(300)
        self.visible_s = visible_s
        self.plots, self.curves, self.acc_curves, self.markers = {}, {}, {}, {}
        self._marker_key: dict[str, tuple | None] = {side: None for side in SIDES}
        self.marker_kinds: dict[str, np.ndarray] = {side: np.empty(0, dtype=object) for side in SIDES}
        self._gap_items: dict[str, list[pg.LinearRegionItem]] = {}
        self._mark_items: dict[str, list[pg.InfiniteLine]] = {}
        self._y_range: dict[str, tuple[float, float]] = {}
        for row, side in enumerate(SIDES):
            plot = self.addPlot(row=row, col=0)
            plot.setLabel("left", f"{side.upper()} ω", units="rad/s")
            self.plots[side] = plot
            self.curves[side] = self._curve(plot)
            self.markers[side] = pg.ScatterPlotItem(size=13, pxMode=True)
            plot.addItem(self.markers[side])
            self._gap_items[side], self._mark_items[side] = [], []
        acc = self.addPlot(row=2, col=0)
        acc.setLabel("left", "|a|", units="m/s²")
        acc.setLabel("bottom", "time before now", units="s")
        self.plots["acc"] = acc
        for side in SIDES:
            self.acc_curves[side] = self._curve(acc)
        self.ci.layout.setRowStretchFactor(2, 0)
        self.grids = {name: StaticGrid(plot, most_y=6 if name != "acc" else 3) for name, plot in self.plots.items()}
        for plot in self.plots.values():  # one column, equal axis widths: the fixed x ranges line up
            _fixed_plot(plot, axis_width=72)
        # fixed ranges: axes (and their tick layout) are drawn once, not on every frame
        self._set_y("acc", (0.0, 60.0))
        for side in SIDES:
            self._set_y(side, (-10.0, 25.0))
        self.apply_theme(theme)

    @staticmethod
    def _curve(plot: pg.PlotItem) -> pg.PlotCurveItem:
        curve = pg.PlotCurveItem(connect="finite")  # NaN (a gap) breaks the line
        plot.addItem(curve)
        return curve

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        _colour_plots(self, self.plots.values(), theme)
        for grid in self.grids.values():
            grid.colour(theme)
        for side in SIDES:
            pen = pg.mkPen(theme.legs[side], width=1)
            self.curves[side].setPen(pen)
            self.acc_curves[side].setPen(pen)
            self.markers[side].setPen(pg.mkPen(theme.foreground, width=1))
            self._marker_key[side] = None  # re-filled with the theme's brushes
            for region in self._gap_items[side]:
                region.setBrush(pg.mkBrush(*theme.gap))
            for line in self._mark_items[side]:
                line.setPen(self._mark_pen())
        key = "  ".join(f"<span style='color:{theme.markers[kind]}'>{glyph}</span> {name}" for kind, glyph, name in
                        (("TO", "▲", "toe-off"), ("MSW", "●", "mid-swing"), ("IC", "▼", "initial contact")))
        self.plots["left"].setTitle(f"<span style='color:{theme.foreground}'>{key}   ┆ dashed: rep marked by hand"
                                    f"   ░ shaded: data missing</span>", size="11pt")

    def _mark_pen(self) -> QtGui.QPen:
        return pg.mkPen(self.theme.foreground, width=1, style=QtCore.Qt.PenStyle.DashLine)

    def draw(self, snap: Snapshot) -> None:
        """Draw the last :attr:`visible_s` of ``snap``'s traces, on a time axis that ends now (at 0 s).

        The view stands still and the data move through it: scrolling the axis instead would lay out
        its ticks and labels again on every frame, the most expensive part of a frame. Curves are
        decimated to two points (min and max) per pixel column; event markers stay in session time
        and their item is moved, so they are given again only when an event comes or goes.
        """
        now = snap.t_end if math.isfinite(snap.t_end) else 0.0
        columns = self._pixel_columns()
        for side in SIDES:
            leg = snap.legs.get(side)
            if leg is None or not len(leg.t):
                self.curves[side].setData([], [])
                self.acc_curves[side].setData([], [])
            else:
                t, omega, acc = peak_decimate(leg.t, (leg.omega, leg.acc), columns)
                t = t - now
                self.curves[side].setData(t, omega)
                self.acc_curves[side].setData(t, acc)
                self._fit_y(side, omega)
            self._show_markers(side, leg.markers if leg is not None else {})
            self.markers[side].setPos(-now, 0.0)
            self._show_gaps(side, [(a - now, b - now) for a, b in leg.gaps] if leg is not None else ())
            self._show_marks(side, [t - now for t in snap.marks if t >= now - self.visible_s])

    def _pixel_columns(self) -> int:
        view = self.plots["acc"].getViewBox()
        return max(100, int(view.width() * self.devicePixelRatioF()))

    def _show_markers(self, side: str, markers) -> None:
        """One scatter item per leg: ▲ toe-off, ● mid-swing, ▼ initial contact, at session times."""
        key = tuple((kind, len(m.t), float(m.t[0]), float(m.t[-1])) for kind, m in markers.items() if len(m.t))
        if key == self._marker_key[side]:
            return
        self._marker_key[side] = key
        shown = [(kind, markers[kind]) for kind, *_ in key]
        kinds = np.concatenate([np.full(len(m.t), kind, dtype=object) for kind, m in shown]) if shown else \
            np.empty(0, dtype=object)
        brushes = {kind: pg.mkBrush(self.theme.markers[kind]) for kind in MARKER_KINDS}
        self.marker_kinds[side] = kinds
        self.markers[side].setData(
            np.concatenate([m.t for _, m in shown]) if shown else [],
            np.concatenate([m.value for _, m in shown]) if shown else [],
            symbol=[SYMBOLS[kind] for kind in kinds], brush=[brushes[kind] for kind in kinds])

    def shown_markers(self, side: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """``(t, value)`` of ``side``'s ``kind`` markers as drawn (t in s before now)."""
        t, value = self.markers[side].getData()
        mine = self.marker_kinds[side] == kind
        return t[mine] + self.markers[side].pos().x(), value[mine]

    def _fit_y(self, side: str, omega: np.ndarray) -> None:
        """Grow the ω axis at once (to a multiple of 10 rad/s with room above), shrink it only when
        the data use under 40 % of it: it changes a few times per rep, not with every stride."""
        if not np.isfinite(omega).any():
            return
        lo, hi = float(np.nanmin(omega)), float(np.nanmax(omega))
        have = self._y_range[side]
        want = (10.0 * math.floor(min(lo, -5.0) / 10.0 - 0.2), 10.0 * math.ceil(max(hi, 10.0) / 10.0 + 0.2))
        if want != have and (lo < have[0] or hi > have[1] or (hi - lo) < 0.4 * (have[1] - have[0])):
            self._set_y(side, want)

    def _set_y(self, name: str, y_range: tuple[float, float]) -> None:
        self._y_range[name] = y_range
        self.grids[name].set((-self.visible_s, 0.0), y_range, show_x_values=name == "acc")

    def _show_gaps(self, side: str, gaps: Sequence[tuple[float, float]]) -> None:
        items = self._gap_items[side]
        while len(items) < len(gaps):
            region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(*self.theme.gap), pen=pg.mkPen(None))
            region.setZValue(-10)
            self.plots[side].addItem(region)
            items.append(region)
        for item, (a, b) in zip(items, gaps):
            item.setRegion((a, b))
            item.setVisible(True)
        for item in items[len(gaps):]:
            item.setVisible(False)

    def _show_marks(self, side: str, marks: Sequence[float]) -> None:
        items = self._mark_items[side]
        while len(items) < len(marks):
            line = pg.InfiniteLine(angle=90, movable=False, pen=self._mark_pen())
            self.plots[side].addItem(line)
            items.append(line)
        for item, t in zip(items, marks):
            item.setValue(t)
            item.setVisible(True)
        for item in items[len(marks):]:
            item.setVisible(False)


class BalancePanel(pg.GraphicsLayoutWidget):
    """Per leg, swing- and push-side output (% of the first rep): across reps, and the current rep's steps.

    Ranges are set by the panel (round values, grown at once, shrunk only when the data use under
    half), so a new analysis redraws the points and lines but rarely the axes; series that did not
    change since the last draw are not given again.
    """

    def __init__(self, theme: Theme):
        super().__init__()
        self.setMinimumWidth(420)
        self.plots: dict[tuple[str, str], pg.PlotItem] = {}
        self.grids: dict[tuple[str, str], StaticGrid] = {}
        self.items: dict[tuple[str, str, str], dict] = {}
        self._ranges: dict[tuple[str, str], tuple[tuple[float, float], tuple[float, float]]] = {}
        self._shown: dict[tuple[str, str, str], Series | None] = {}
        self._rep_labels: dict[str, pg.LabelItem] = {}
        for row, side in enumerate(SIDES):
            for col, scale in enumerate(("reps", "steps")):
                plot = self.addPlot(row=row, col=col)
                _fixed_plot(plot, axis_width=52)
                self.plots[side, scale] = plot
                self.grids[side, scale] = StaticGrid(plot, most_y=5, least_step_x=1.0)
                for output in ("swing", "push"):
                    # plain items, not PlotDataItems: a third of the cost per update
                    parts = {"fan": QtWidgets.QGraphicsPolygonItem(), "line": pg.PlotCurveItem(),
                             "joins": pg.PlotCurveItem(), "points": pg.ScatterPlotItem(size=9, pxMode=True)}
                    parts["fan"].setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
                    for z, item in enumerate(parts.values()):
                        item.setZValue(z)
                        plot.addItem(item)
                    self.items[side, scale, output] = parts
                self._fit((side, scale), [])
                # fixed titles: a title whose text changes lays the whole panel out again (tens of ms)
                plot.setTitle(f"{side.upper()}: " + ("across reps (% of rep 1)" if scale == "reps" else
                                                     "steps of this rep (%)"), size="11pt")
            # which rep, in the steps plot's upper left corner (a rep's first steps are low), outside
            # the layout, so cheap to change
            label = pg.LabelItem(size="11pt", justify="left")
            label.setParentItem(self.plots[side, "steps"].getViewBox())
            label.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(4, 2))
            self._rep_labels[side] = label
        self.legend = self.plots["left", "reps"].addLegend(offset=(4, 4), labelTextSize="10pt")
        # drawn in the legend only; a point, so that pyqtgraph styles their symbol
        self._legend_samples = {output: pg.PlotDataItem([0.0], [0.0]) for output in ("swing", "push")}
        self.legend.addItem(self._legend_samples["swing"], "swing side")
        self.legend.addItem(self._legend_samples["push"], "push side")
        self._rep_text = ""
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        _colour_plots(self, self.plots.values(), theme)
        for grid in self.grids.values():
            grid.colour(theme)
        for output, sample in self._legend_samples.items():
            look = self._look(output)
            sample.setPen(look["joins"])
            sample.setSymbol(look["symbol"])
            sample.setSymbolBrush(look["brush"])
            sample.setSymbolPen(look["pen"])
        for (_, _, output), parts in self.items.items():
            look = self._look(output)
            parts["points"].setSymbol(look["symbol"])
            parts["points"].setBrush(look["brush"])
            parts["points"].setPen(look["pen"])
            parts["joins"].setPen(look["joins"])
            parts["line"].setPen(look["line"])
            parts["fan"].setBrush(look["fan"])
        self.legend.setLabelTextColor(theme.foreground)
        backing = QtGui.QColor(theme.background)
        backing.setAlpha(210)
        self.legend.setBrush(pg.mkBrush(backing))  # readable over the points
        for _, label in self.legend.items:  # the colour applies from the next text on
            label.setText(label.text)
        for plot in self.plots.values():
            plot.setTitle(plot.titleLabel.text, color=theme.foreground, size="11pt")
        for label in self._rep_labels.values():
            label.setText(self._rep_text, color=theme.foreground)

    def _look(self, output: str) -> dict:
        """Swing side: filled circles and solid joins; push side: open squares and dashed joins."""
        colour = self.theme.swing if output == "swing" else self.theme.push
        fan = QtGui.QColor(colour)
        fan.setAlpha(55)
        style = QtCore.Qt.PenStyle.SolidLine if output == "swing" else QtCore.Qt.PenStyle.DashLine
        return {"symbol": "o" if output == "swing" else "s", "pen": pg.mkPen(colour, width=1),
                "brush": pg.mkBrush(colour if output == "swing" else self.theme.background),
                "joins": pg.mkPen(colour, width=1, style=style), "line": pg.mkPen(colour, width=3),
                "fan": pg.mkBrush(fan)}

    def _show_rep(self, current_rep: int | None, over: bool) -> None:
        text = "" if current_rep is None else f"rep {current_rep}" + ("" if over else " · running")
        if text != self._rep_text:
            self._rep_text = text
            for label in self._rep_labels.values():
                label.setText(text, color=self.theme.foreground)

    def draw(self, snap: Snapshot, sides: Sequence[str] = SIDES) -> None:
        """Draw ``sides``' plots from ``snap``."""
        self._show_rep(snap.current_rep, snap.current_rep_over)
        for side in sides:
            leg = snap.balance.get(side)
            for scale in ("reps", "steps"):
                shown = []
                for output in ("swing", "push"):
                    series = None if leg is None else getattr(leg, f"{scale}_{output}")
                    shown.append(series)
                    if not _same_series(series, self._shown.get((side, scale, output))):
                        self._shown[side, scale, output] = series
                        self._series(self.items[side, scale, output], series)
                self._fit((side, scale), [series for series in shown if series is not None])

    #: x shown at first: reps of a session, steps of a leg in a sprint rep; grown by half as needed.
    X_SPAN = {"reps": 10, "steps": 20}
    #: y always shown (%): a rep's steps go from about -40 % (first steps) to about the first rep's
    #: top speed, so the range is not re-laid out step by step as a rep starts.
    Y_SHOWN = {"reps": (0.0, 0.0), "steps": (-50.0, 10.0)}

    def _fit(self, key: tuple[str, str], shown: Sequence[Series]) -> None:
        """Ranges holding every point and fan: x from 0.5 to a round count (+0.5), y padded and rounded."""
        xs = [series.x for series in shown if len(series.x)]
        ys = [series.y[np.isfinite(series.y)] for series in shown]
        ys += [np.array([t.low0, t.low1, t.high0, t.high1, t.y0, t.y1]) for t in (s.trend for s in shown) if t]
        x_max = max([float(x.max()) for x in xs], default=0.0)
        span = self.X_SPAN[key[1]]
        x_range = (0.5, span * max(2, math.ceil(2.0 * x_max / span)) / 2 + 0.5)
        values = np.concatenate(ys) if ys else np.empty(0)
        values = values[np.isfinite(values)]
        lo, hi = (float(values.min()), float(values.max())) if len(values) else (-1.0, 1.0)
        lo, hi = min(lo, self.Y_SHOWN[key[1]][0]), max(hi, self.Y_SHOWN[key[1]][1])
        pad = max(0.15 * (hi - lo), 1.0)
        ticks = nice_ticks(lo - pad, hi + pad, most=5)
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        want = (step * math.floor((lo - pad) / step), step * math.ceil((hi + pad) / step))
        have = self._ranges.get(key)
        if (have is None or x_range != have[0] or want[0] < have[1][0] or want[1] > have[1][1]
                or (want[1] - want[0]) < 0.5 * (have[1][1] - have[1][0])):
            self._ranges[key] = x_range, want
            self.grids[key].set(x_range, want)

    @staticmethod
    def _series(parts: dict, series: Series | None) -> None:
        if series is None or not len(series.x):
            x = y = np.empty(0)
        else:
            keep = np.isfinite(series.y)
            x, y = series.x[keep], series.y[keep]
        parts["points"].setData(x, y)
        parts["joins"].setData(x, y)
        trend: TrendLine | None = None if series is None else series.trend
        if trend is None:
            parts["line"].setData([], [])
            parts["fan"].setVisible(False)
            return
        parts["line"].setData(np.array([trend.x0, trend.x1]), np.array([trend.y0, trend.y1]))
        corners = ((trend.x0, trend.low0), (trend.x1, trend.low1), (trend.x1, trend.high1), (trend.x0, trend.high0))
        parts["fan"].setPolygon(QtGui.QPolygonF([QtCore.QPointF(*corner) for corner in corners]))
        parts["fan"].setVisible(True)


def _same_series(a: Series | None, b: Series | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.trend == b.trend and np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y, equal_nan=True)


def _table(columns: Sequence[str]) -> QtWidgets.QTableWidget:
    table = QtWidgets.QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _fill_row(table: QtWidgets.QTableWidget, row: int, cells: Sequence[str], background: str | None = None,
              foreground: str | None = None, bold: bool = False) -> None:
    for col, text in enumerate(cells):
        item = table.item(row, col)
        if item is None:
            item = QtWidgets.QTableWidgetItem()
            table.setItem(row, col, item)
        item.setText(text)
        item.setBackground(QtGui.QBrush(QtGui.QColor(background)) if background else QtGui.QBrush())
        item.setForeground(QtGui.QBrush(QtGui.QColor(foreground)) if foreground else QtGui.QBrush())
        font = item.font()
        font.setBold(bold)
        item.setFont(font)


def rep_cells(rep) -> list[str]:
    """One rep-table row as text (times in ms, ω in rad/s, push in body weights)."""
    return [str(rep.rep), str(rep.n_steps), _fmt(rep.contact_s, 1e3, "{:.0f}"), _fmt(rep.flight_s, 1e3, "{:.0f}"),
            _fmt(rep.step_hz, 1, "{:.2f}"), _fmt(rep.swing_left_rad_s), _fmt(rep.swing_right_rad_s),
            _fmt(rep.push_left_bw, 1, "{:.2f}"), _fmt(rep.push_right_bw, 1, "{:.2f}"),
            "; ".join(rep.flags) if rep.flags else "—"]


def health_cells(status) -> list[str]:
    battery = f"{status.battery_pct} %" if status.battery_pct is not None else "–"
    detail = f" ({status.detail})" if status.detail and status.state != "streaming" else ""
    return [status.role.upper(), status.state + detail,
            f"{status.effective_rate_hz:.0f}", str(status.lost_packets), str(status.malformed), battery]


def banner_text(snap: Snapshot) -> tuple[str, str, str]:
    """``(headline, evidence, kind)`` of the banner; kind is ``"alarm"``, ``"note"`` or ``"none"``."""
    if snap.banner is not None:
        b = snap.banner
        where = f"rep {b.rep}" if b.scale != "sessions" else "this session"
        head = ("FLAG: " if b.alarm else "NOTE: ") + f"{b.message}  [{where}]"
        return head, f"Rests on {b.evidence}", "alarm" if b.alarm else "note"
    reps = len(snap.reps)
    if reps < 4:
        return (f"No flag. {reps} rep{'s' if reps != 1 else ''} so far: the across-reps check needs 4.",
                "Within a rep the steps are compared with the earlier reps' from rep 3 on.", "none")
    return ("No flag: swing-side and push-side outputs are moving together.",
            f"Checked over the last reps ({reps} so far) and within each rep.", "none")


# -- the window -------------------------------------------------------------------------------------


class DashboardWindow(QtWidgets.QMainWindow):
    """The trackside dashboard.

    Parameters
    ----------
    engine : Engine, optional
        Where snapshots come from and commands go (``snapshot``, ``start_recording``,
        ``stop_recording``, ``mark_rep``, ``athletes``). None: a window that only shows what
        :meth:`render` is given.
    theme : {"outdoor", "indoor"}
    visible_s : float
        Trace seconds on screen.
    fps : float
        Redraws per second while running (0: as fast as the event loop allows; benchmarks).
    """

    def __init__(self, engine=None, theme: str = "outdoor", visible_s: float = VISIBLE_S, fps: float = FPS):
        super().__init__()
        self.engine = engine
        self.visible_s = visible_s
        self.athletes: tuple[str, ...] = tuple(engine.athletes) if engine is not None else ()
        self.athlete = self.athletes[0] if self.athletes else ""
        self.theme = THEMES[theme]
        self.frame_times: deque[float] = deque(maxlen=100_000)
        self.frames = 0
        self.last: Snapshot | None = None
        self._shown_analysis: tuple | None = None
        self._shown_health: tuple | None = None
        self._pending: dict[str, None] = {}  # parts to redraw, in order (an ordered set)
        #: What the last :meth:`render` drew: "traces", then any of :data:`PARTS`.
        self.drawn: tuple[str, ...] = ()
        self.setWindowTitle("gaitmon")
        self._build()
        self._shortcuts()
        self.apply_theme(self.theme.name)
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setSingleShot(True)  # each frame sets the next one's time (see _tick)
        self.timer.timeout.connect(self._tick)
        self._period_s = 1.0 / fps if fps else 0.0
        self._due = 0.0
        self._running = False

    # -- building ------------------------------------------------------------------------------------
    def _button(self, text: str, slot: Callable[[], None], tip: str) -> QtWidgets.QPushButton:
        button = QtWidgets.QPushButton(text)
        button.setMinimumHeight(64)
        button.setMinimumWidth(150)
        button.setToolTip(tip)
        button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    def _build(self) -> None:
        central = QtWidgets.QWidget()
        self.setCentralWidget(central)
        outer = QtWidgets.QVBoxLayout(central)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(6)

        bar = QtWidgets.QHBoxLayout()
        self.athlete_button = self._button("", self.next_athlete, "Switch athlete (A or Page Up)")
        self.record_button = self._button("", self.toggle_recording, "Start or stop recording (R)")
        self.record_button.setMinimumWidth(200)
        self.mark_button = self._button("MARK REP", self.mark_rep, "Mark a rep by hand (Space or Page Down)")
        self.theme_button = self._button("", self.toggle_theme, "Outdoor / indoor colours (T)")
        self.full_button = self._button("FULL SCREEN", self.toggle_full_screen, "Full screen (F or F11; Esc leaves)")
        self.status_label = QtWidgets.QLabel()
        self.status_label.setObjectName("status")
        self.status_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        for widget in (self.athlete_button, self.record_button, self.mark_button):
            bar.addWidget(widget)
        bar.addWidget(self.status_label, 1)
        bar.addWidget(self.theme_button)
        bar.addWidget(self.full_button)
        outer.addLayout(bar)

        self.banner = QtWidgets.QFrame()
        self.banner.setObjectName("banner")
        banner_layout = QtWidgets.QVBoxLayout(self.banner)
        banner_layout.setContentsMargins(12, 6, 12, 6)
        self.banner_head = QtWidgets.QLabel()
        self.banner_head.setObjectName("bannerHead")
        self.banner_head.setWordWrap(True)
        self.banner_evidence = QtWidgets.QLabel()
        self.banner_evidence.setObjectName("bannerEvidence")
        self.banner_evidence.setWordWrap(True)
        banner_layout.addWidget(self.banner_head)
        banner_layout.addWidget(self.banner_evidence)
        outer.addWidget(self.banner)

        numbers = QtWidgets.QGridLayout()
        numbers.setHorizontalSpacing(18)
        numbers.setVerticalSpacing(0)
        self.number_labels: dict[tuple[str, str], QtWidgets.QLabel] = {}
        for col, (label, unit, *_rest) in enumerate(NUMBERS, start=1):
            head = QtWidgets.QLabel(f"{label} <span style='font-weight:normal'>{unit}</span>")
            head.setObjectName("numberHead")
            head.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            numbers.addWidget(head, 0, col)
        for row, side in enumerate(SIDES, start=1):
            name = QtWidgets.QLabel(side[0].upper())
            name.setObjectName(f"legName_{side}")
            name.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            numbers.addWidget(name, row, 0)
            for col, (_, _, key, *_rest) in enumerate(NUMBERS, start=1):
                value = QtWidgets.QLabel("–")
                value.setObjectName(f"number_{side}")
                value.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                numbers.addWidget(value, row, col)
                self.number_labels[side, key] = value
        outer.addLayout(numbers)

        middle = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.traces = TracePanel(self.theme, self.visible_s)
        self.balance = BalancePanel(self.theme)
        middle.addWidget(self.traces)
        middle.addWidget(self.balance)
        middle.setStretchFactor(0, 3)
        middle.setStretchFactor(1, 2)
        outer.addWidget(middle, 1)

        bottom = QtWidgets.QHBoxLayout()
        self.rep_table = _table(REP_COLUMNS)
        self.rep_table.setMinimumHeight(150)
        self.health_table = _table(HEALTH_COLUMNS)
        self.health_table.horizontalHeader().setStretchLastSection(False)
        self.health_table.horizontalHeader().setSectionResizeMode(
            HEALTH_COLUMNS.index("State"), QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.health_table.setMaximumWidth(560)
        bottom.addWidget(self.rep_table, 3)
        bottom.addWidget(self.health_table, 2)
        outer.addLayout(bottom)

    def _shortcuts(self) -> None:
        keys = {self.mark_rep: ("Space", "PgDown"), self.toggle_recording: ("R",),
                self.next_athlete: ("A", "PgUp"), self.toggle_theme: ("T",),
                self.toggle_full_screen: ("F", "F11"), self.leave_full_screen: ("Esc",)}
        for slot, sequences in keys.items():
            for sequence in sequences:
                shortcut = QtGui.QShortcut(QtGui.QKeySequence(sequence), self)
                shortcut.activated.connect(slot)

    # -- look ------------------------------------------------------------------------------------------
    def apply_theme(self, name: str) -> None:
        theme = self.theme = THEMES[name]
        self.setStyleSheet(f"""
            QWidget {{ background: {theme.background}; color: {theme.foreground}; font-size: 15px; }}
            QPushButton {{ background: {theme.panel}; border: 3px solid {theme.foreground}; border-radius: 8px;
                          font-size: 20px; font-weight: bold; padding: 4px 14px; }}
            QPushButton:pressed {{ background: {theme.foreground}; color: {theme.background}; }}
            QPushButton:disabled {{ color: {theme.muted}; border-color: {theme.muted}; }}
            QLabel#status {{ font-size: 24px; font-weight: bold; }}
            QLabel#bannerHead {{ font-size: 24px; font-weight: bold; }}
            QLabel#bannerEvidence {{ font-size: 14px; }}
            QLabel#numberHead {{ font-size: 15px; font-weight: bold; color: {theme.muted}; }}
            QLabel#number_left {{ font-size: 54px; font-weight: bold; color: {theme.legs['left']}; }}
            QLabel#number_right {{ font-size: 54px; font-weight: bold; color: {theme.legs['right']}; }}
            QLabel#legName_left {{ font-size: 40px; font-weight: bold; color: {theme.legs['left']}; }}
            QLabel#legName_right {{ font-size: 40px; font-weight: bold; color: {theme.legs['right']}; }}
            QTableWidget {{ gridline-color: {theme.muted}; font-size: 16px; }}
            QHeaderView::section {{ background: {theme.panel}; color: {theme.foreground}; font-weight: bold;
                                   font-size: 14px; border: 1px solid {theme.muted}; padding: 2px; }}
        """)
        self.traces.apply_theme(theme)
        self.balance.apply_theme(theme)
        self.theme_button.setText("INDOOR" if name == "outdoor" else "OUTDOOR")
        self._shown_analysis = self._shown_health = None
        if self.last is not None:
            self.render(self.last)

    # -- commands ------------------------------------------------------------------------------------
    def _live_controls(self) -> bool:
        return (self.engine is not None and self.engine.running and self.last is not None
                and self.last.recording.state != "replay")

    def toggle_recording(self) -> None:
        if not self._live_controls():
            return
        if self.last.recording.state == "recording":
            self.engine.stop_recording(self.athlete)
        else:
            self.engine.start_recording(self.athlete)

    def mark_rep(self) -> None:
        if self._live_controls():
            self.engine.mark_rep(self.athlete)

    def next_athlete(self) -> None:
        if len(self.athletes) > 1:
            self.athlete = self.athletes[(self.athletes.index(self.athlete) + 1) % len(self.athletes)]
            self._shown_analysis = self._shown_health = None
            if self.engine is not None:  # all parts at once: never one athlete's numbers beside another's plots
                self.render(self.engine.snapshot(self.athlete, self.visible_s))

    def toggle_theme(self) -> None:
        self.apply_theme("indoor" if self.theme.name == "outdoor" else "outdoor")

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def leave_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()

    # -- running ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the redraw timer (the engine must be started).

        While the window runs, Python's thread switch interval is 1 ms instead of 5: the GUI thread
        shares the interpreter lock with the engine and analysis threads, and each time a Qt call
        lets the lock go during a frame, getting it back could otherwise take up to 5 ms (measured:
        p95 frame time 25.8 → 22.5 ms, one athlete, ``benchmarks/bench_dashboard.py``).
        """
        if not self._running:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch_interval, 0.001))
        self._running = True
        self.refresh()
        self._due = time.perf_counter()
        self._schedule()

    def stop(self) -> None:
        """Stop redrawing (closing the window does)."""
        if self._running:
            sys.setswitchinterval(self._switch_interval)
        self._running = False
        self.timer.stop()

    def _tick(self) -> None:
        self.refresh()
        if self._running:  # refresh() may have led to stop()
            self._schedule()

    def _schedule(self) -> None:
        """Time the next frame on a fixed grid of ``1 / fps`` s, not ``1 / fps`` after this one.

        A periodic QTimer of ``round(1000 / fps)`` ms loses a tick whenever a frame runs late, and its
        whole milliseconds miss 30 fps anyway; here a late frame is followed at once by the next (one
        catch-up at most, never a burst), so the display keeps ``fps`` on average.
        """
        now = time.perf_counter()
        self._due = max(self._due + self._period_s, now - self._period_s)
        self.timer.start(max(0, round((self._due - now) * 1e3)))

    def refresh(self) -> None:
        """Pull the current athlete's snapshot and draw it, one part of the rest at most (the timer's slot)."""
        if self.engine is None:
            return
        started = time.perf_counter()
        self.render(self.engine.snapshot(self.athlete, self.visible_s), parts_per_frame=1)
        self.frame_times.append(time.perf_counter() - started)
        self.frames += 1

    def render(self, snap: Snapshot, parts_per_frame: int | None = None) -> None:
        """Draw ``snap``: the traces always; of the other :data:`PARTS`, those whose content changed.

        ``parts_per_frame`` (the live timer gives 1) spreads those parts over the next frames, in
        :data:`PARTS` order, each drawn from the snapshot of its frame: after a new analysis the
        numbers and the banner come first, the balance plots 1–3 frames (≤ 0.1 s) later. No frame
        then does all of it, which would take several times a traces-only frame. None: all now.
        """
        self.last = snap
        self.traces.draw(snap)
        self._show_status(snap)
        analysis = (snap.athlete, snap.analysed_s, len(snap.reps), snap.current_rep)
        if analysis != self._shown_analysis:
            self._shown_analysis = analysis
            self._pending.update(dict.fromkeys(ANALYSIS_PARTS))
        health = (snap.athlete, tuple(tuple(health_cells(status)) for status in snap.health))
        if health != self._shown_health:  # the counters behind the cells change at every update
            self._shown_health = health
            self._pending["health"] = None
        due = [part for part in PARTS if part in self._pending][:parts_per_frame]
        for part in due:
            del self._pending[part]
            self._draw_part(part, snap)
        self.drawn = ("traces", *due)

    @property
    def pending(self) -> tuple[str, ...]:
        """Parts that changed and are still to be drawn (see :meth:`render`)."""
        return tuple(self._pending)

    def _draw_part(self, part: str, snap: Snapshot) -> None:
        if part == "numbers":
            self._show_banner(snap)
            self._show_numbers(snap.latest)
        elif part == "reps":
            self._show_reps(snap)
        elif part == "health":
            self._show_health(snap)
        else:  # "balance left" / "balance right"
            self.balance.draw(snap, sides=(part.split()[1],))

    def _show_status(self, snap: Snapshot) -> None:
        many = len(self.athletes) > 1
        self.athlete_button.setText(f"{'▸ ' if many else ''}{(snap.athlete or 'athlete').upper()}"
                                    + (f"  {self.athletes.index(self.athlete) + 1}/{len(self.athletes)}" if many else ""))
        self.athlete_button.setEnabled(many)
        rec: RecordingState = snap.recording
        live = self.engine is not None and self.engine.running and rec.state != "replay"
        self.record_button.setText("■ STOP REC" if rec.state == "recording" else "● RECORD")
        self.record_button.setEnabled(live)
        self.mark_button.setEnabled(live)
        t = _clock(snap.session_s)
        theme = self.theme
        text, colour = {
            "recording": (f"● REC {t}", theme.bad),
            "failed": (f"REC FAILED {t}", theme.bad),
            "stopped": (f"saved · {t}", theme.foreground),
            "replay": (f"REPLAY {t}", theme.foreground),
        }.get(rec.state, (f"not recording · {t}", theme.muted))
        if self.engine is not None and not self.engine.running and rec.state != "failed":
            text += " · ended"
        self.status_label.setText(f"<span style='color:{colour}'>{text}</span>")
        tip = rec.error or rec.folder
        if self.status_label.toolTip() != tip:  # setToolTip posts an event even when unchanged
            self.status_label.setToolTip(tip)

    def _show_banner(self, snap: Snapshot) -> None:
        head, evidence, kind = banner_text(snap)
        theme = self.theme
        background, foreground = {"alarm": (theme.alarm_bg, theme.alarm_fg), "note": (theme.note_bg, theme.foreground)
                                  }.get(kind, (theme.panel, theme.foreground))
        border = theme.alarm_fg if kind == "alarm" else theme.muted
        style = (f"QFrame#banner {{ background: {background}; border: 3px solid {border}; border-radius: 6px; }} "
                 f"QFrame#banner QLabel {{ background: {background}; color: {foreground}; }}")
        if self.banner.styleSheet() != style:  # re-styling re-polishes the frame and its labels
            self.banner.setStyleSheet(style)
        self.banner_head.setText(head)
        self.banner_evidence.setText(evidence)

    def _show_numbers(self, latest: dict[str, Step]) -> None:
        for side in SIDES:
            step = latest.get(side)
            for _, _, key, scale, fmt in NUMBERS:
                value = getattr(step, key) if step is not None else math.nan
                self.number_labels[side, key].setText(_fmt(value, scale, fmt))

    def _show_reps(self, snap: Snapshot) -> None:
        rows = list(reversed(snap.reps))  # newest first: the coach looks at the top
        self.rep_table.setRowCount(len(rows))
        for row, rep in enumerate(rows):
            alarm = (self.theme.alarm_bg, self.theme.alarm_fg) if rep.alarm else (None, None)
            _fill_row(self.rep_table, row, rep_cells(rep), *alarm, bold=rep.alarm)

    def _show_health(self, snap: Snapshot) -> None:
        self.health_table.setRowCount(len(snap.health))
        colours = {"streaming": self.theme.ok, "reconnecting": self.theme.warn, "connecting": self.theme.warn,
                   "searching": self.theme.warn, "stopped": self.theme.muted}
        for row, status in enumerate(snap.health):
            colour = colours.get(status.state, self.theme.bad)
            _fill_row(self.health_table, row, health_cells(status), foreground=colour, bold=status.state != "streaming")

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.stop()
        super().closeEvent(event)


def dispose(widget: QtWidgets.QWidget) -> None:
    """Close and delete ``widget`` now, while the QApplication lives.

    Left to the interpreter's exit, PySide6 6.12 with pyqtgraph 0.14 can crash in the final garbage
    collection (the C++ scene outliving its Python wrappers), so every window is deleted explicitly.
    """
    import gc

    widget.close()
    widget.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
    gc.collect()


def save_png(snap: Snapshot, path: Path, size: tuple[int, int] = (1600, 1000), athletes: Sequence[str] = (),
             theme: str = "outdoor") -> Path:
    """Paint ``snap`` in a dashboard window of ``size`` px into a PNG (works offscreen)."""
    application(offscreen=not display_available())
    window = DashboardWindow(theme=theme)
    try:
        window.athletes = tuple(athletes) or (snap.athlete,)
        window.athlete = snap.athlete
        window.resize(*size)
        window.render(snap)
        window.show()
        QtWidgets.QApplication.processEvents()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(path)):
            raise OSError(f"{path}: the PNG could not be written")
    finally:
        dispose(window)
    return path


def run_window(engine, theme: str = "outdoor", full_screen: bool = False) -> int:
    """Show the dashboard on ``engine`` until the window is closed; then stop the engine.

    Returns 1 when the engine failed, else 0. Closing waits until the recordings are closed and
    their tables written (seconds for a long session).
    """
    import signal

    app = application()
    window = DashboardWindow(engine, theme=theme)
    window.resize(1600, 1000)
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())  # Ctrl-C in the terminal closes it
    try:
        engine.start()
        window.start()
        if full_screen:
            window.showFullScreen()
        else:
            window.show()
        app.exec()
    finally:
        signal.signal(signal.SIGINT, previous)
        dispose(window)
        engine.stop(timeout_s=None)  # the recordings close and their tables are written: wait for it
    return 1 if engine.failure is not None else 0
