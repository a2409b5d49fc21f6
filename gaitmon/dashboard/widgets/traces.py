"""The traces: sagittal ω of each leg with toe-off, mid-swing and initial-contact markers (▲ ● ▼),
gaps shaded and hand-marked reps dashed, and the accelerometer magnitude of both legs, over the last
seconds on a time axis that ends now.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui

from gaitmon.dashboard.drawing import peak_decimate
from gaitmon.dashboard.widgets.plots import StaticGrid, colour_plots, fixed_plot, keep_layout_minimum
from gaitmon.dashboard.widgets.theme import SIDES, Theme
from gaitmon.engine.model import MARKER_KINDS, VISIBLE_S, Snapshot

#: Marker symbols: up for toe-off (the foot leaves), circle at mid-swing, down for initial contact.
SYMBOLS = {"TO": "t1", "MSW": "o", "IC": "t"}


class MovingScatter(pg.ScatterPlotItem):
    """A scatter item (pixel-sized symbols) moved as a whole with ``setPos`` that paints every point in view.

    pyqtgraph culls such an item's points with its ``viewRect()``, cached in the item's own
    coordinates and refreshed only when the view's transform changes, not when the item moves.
    Moved every frame, the item culled with the rectangle of the last range change: the newest
    strides had no markers on screen while ``getData()`` had them all. Moving it refreshes the cache
    (as pyqtgraph's own ``InfiniteLine.setPos`` and ``PlotDataItem.setPos`` do: pyqtgraph#1494).
    """

    def setPos(self, *pos) -> None:  # noqa: N802 - Qt's name
        super().setPos(*pos)
        self.viewTransformChanged()


class TracePanel(pg.GraphicsLayoutWidget):
    """Sagittal ω of each leg (with event markers, gaps and hand marks) and |a| of both, over the last seconds."""

    def __init__(self, theme: Theme, visible_s: float = VISIBLE_S):
        super().__init__()
        self.visible_s = visible_s
        self.plots, self.curves, self.acc_curves, self.markers = {}, {}, {}, {}
        self._marker_key: dict[str, tuple | None] = {side: None for side in SIDES}
        self.marker_kinds: dict[str, np.ndarray] = {side: np.empty(0, dtype=object) for side in SIDES}
        self._gap_items: dict[str, list[pg.LinearRegionItem]] = {}
        self._mark_items: dict[str, list[pg.InfiniteLine]] = {}
        self._y_range: dict[str, tuple[float, float]] = {}
        for row, side in enumerate(SIDES):
            plot = self.addPlot(row=row, col=0)
            plot.setLabel("left", f"ω {side[0].upper()}", units="rad/s")
            plot.getAxis("bottom").setStyle(showValues=False)  # the |a| plot's axis under them says the times
            self.plots[side] = plot
            self.curves[side] = self._curve(plot)
            self.markers[side] = MovingScatter(size=13, pxMode=True)
            plot.addItem(self.markers[side])
            self._gap_items[side], self._mark_items[side] = [], []
        acc = self.addPlot(row=2, col=0)
        acc.setLabel("left", "|a|", units="m/s²")
        acc.setLabel("bottom", "time before now", units="s")
        self.plots["acc"] = acc
        for side in SIDES:
            self.acc_curves[side] = self._curve(acc)
        self.ci.layout.setRowStretchFactor(2, 0)
        self.ci.layout.setVerticalSpacing(12)  # room between one plot's lowest tick label and the next one's highest
        self.grids = {name: StaticGrid(plot, most_y=6 if name != "acc" else 3) for name, plot in self.plots.items()}
        for plot in self.plots.values():  # one column, equal axis widths: the fixed x ranges line up
            fixed_plot(plot, axis_width=72)
            # tall enough for its axis title: a shorter plot's title would overlap the next one's
            plot.getViewBox().setMinimumHeight(plot.getAxis("left").label.boundingRect().width() + 8)
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
        colour_plots(self, self.plots.values(), theme)
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
        self.plots["left"].setTitle(f"<span style='color:{theme.foreground}'>{key}   ┆ rep marked by hand"
                                    f"   ░ data missing</span>", size="11pt")
        keep_layout_minimum(self)

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
