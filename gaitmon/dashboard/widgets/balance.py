"""The strength-balance plots: per leg, swing- and push-side output in % of the first rep, across
reps and across the current rep's steps, with trend lines and their confidence fans.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from gaitmon.report.svg import nice_ticks
from gaitmon.dashboard.widgets.plots import StaticGrid, colour_plots, fixed_plot, keep_layout_minimum
from gaitmon.dashboard.widgets.theme import SIDES, Theme
from gaitmon.engine.model import Series, Snapshot, TrendLine

#: The two plots of each leg: across the session's reps, across the current rep's steps of the leg.
SCALES = ("reps", "steps")
#: Their x axes' labels.
X_LABELS = {"reps": "rep no.", "steps": "step no. (this leg)"}


def steps_title(side: str, rep: int | None, over: bool) -> str:
    """The title of a leg's steps plot: which rep, and "so far" while it is run."""
    return f"{side.upper()}: steps of " + ("this rep" if rep is None else f"rep {rep}" + ("" if over else " so far"))


class BalancePanel(pg.GraphicsLayoutWidget):
    """Per leg, swing- and push-side output (% of the first rep): across reps, and the current rep's steps.

    Ranges are set by the panel, one per scale for both legs (the two legs read on one scale): x
    ends at the last rep, or the steps so far rounded up to 5; y at round values, grown at once,
    shrunk only when the data use under half. A new analysis thus redraws the points and lines but
    rarely the axes; series that did not change since the last draw are not given again. The legend
    is a row of its own above the plots, and the steps plots' titles say which rep they show.
    """

    def __init__(self, theme: Theme):
        super().__init__()
        self.plots: dict[tuple[str, str], pg.PlotItem] = {}
        self.grids: dict[tuple[str, str], StaticGrid] = {}
        self.items: dict[tuple[str, str, str], dict] = {}
        self._ranges: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {}  # scale → (x, y) range
        self._shown: dict[tuple[str, str, str], Series | None] = {}
        # the legend above the plots, in a row of its own: it covers no point
        self.legend = pg.LabelItem(size="11pt")
        self.addItem(self.legend, row=0, col=0, colspan=2)
        for row, side in enumerate(SIDES, start=1):
            for col, scale in enumerate(SCALES):
                plot = self.addPlot(row=row, col=col)
                fixed_plot(plot, axis_width=62)
                plot.setLabel("left", "% of rep 1")
                if side == SIDES[-1]:
                    plot.setLabel("bottom", X_LABELS[scale])
                else:  # both legs' plots of a scale have one x range: the lower one's axis says it
                    plot.getAxis("bottom").setStyle(showValues=False)
                # tall enough for its axis title: a shorter plot's title would overlap the next one's
                plot.getViewBox().setMinimumHeight(plot.getAxis("left").label.boundingRect().width() + 4)
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
                plot.setTitle(steps_title(side, None, False) if scale == "steps" else f"{side.upper()}: across reps",
                              size="11pt")
        for scale in SCALES:
            self._fit(scale, [])
        self._rep_shown: tuple[int | None, bool] = (None, False)
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        colour_plots(self, self.plots.values(), theme)
        for grid in self.grids.values():
            grid.colour(theme)
        for (_, _, output), parts in self.items.items():
            look = self._look(output)
            parts["points"].setSymbol(look["symbol"])
            parts["points"].setBrush(look["brush"])
            parts["points"].setPen(look["pen"])
            parts["joins"].setPen(look["joins"])
            parts["line"].setPen(look["line"])
            parts["fan"].setBrush(look["fan"])
        self.legend.setText(f"<span style='color:{theme.swing}'>●</span> swing side&nbsp;&nbsp;&nbsp;"
                            f"<span style='color:{theme.push}'>□</span> push side&nbsp;&nbsp;&nbsp;"
                            "thick: trend, shaded: its CI", color=theme.foreground)
        keep_layout_minimum(self)
        for plot in self.plots.values():
            plot.setTitle(plot.titleLabel.text, color=theme.foreground, size="11pt")
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setLabel(plot.getAxis(axis).labelText, color=theme.foreground)

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
        """The steps plots' titles say which rep (twice a rep: a title's new text lays the panel out again)."""
        if (current_rep, over) != self._rep_shown:
            self._rep_shown = current_rep, over
            for side in SIDES:
                self.plots[side, "steps"].setTitle(steps_title(side, current_rep, over), color=self.theme.foreground,
                                                   size="11pt")
            keep_layout_minimum(self)

    def draw(self, snap: Snapshot, sides: Sequence[str] = SIDES) -> None:
        """Draw ``sides``' plots from ``snap``; the ranges, one per scale for both legs, from both legs' data."""
        self._show_rep(snap.current_rep, snap.current_rep_over)
        for side in sides:
            leg = snap.balance.get(side)
            for scale in SCALES:
                for output in ("swing", "push"):
                    series = None if leg is None else getattr(leg, f"{scale}_{output}")
                    if not _same_series(series, self._shown.get((side, scale, output))):
                        self._shown[side, scale, output] = series
                        self._series(self.items[side, scale, output], series)
        for scale in SCALES:
            self._fit(scale, [getattr(leg, f"{scale}_{output}") for leg in snap.balance.values()
                              for output in ("swing", "push")])

    #: Least x shown: reps of a session, steps of a leg in a rep; the steps' end is a multiple of
    #: ``X_GRAIN["steps"]``, so that the axis changes a few times per rep, not with every step.
    X_LEAST = {"reps": 4, "steps": 10}
    X_GRAIN = {"reps": 1, "steps": 5}
    #: y always shown (%): a rep's steps go from about -40 % (first steps) to about the first rep's
    #: top speed, so the range is not re-laid out step by step as a rep starts.
    Y_SHOWN = {"reps": (0.0, 0.0), "steps": (-50.0, 10.0)}

    def _fit(self, scale: str, shown: Sequence[Series]) -> None:
        """Both legs' ``scale`` plots' ranges, holding every point and fan of ``shown`` (both legs):
        x from 0.5 to the last point's count rounded up to :data:`X_GRAIN` (+0.5), at least
        :data:`X_LEAST`; y padded and rounded, grown at once, shrunk when the data use under half."""
        xs = [series.x for series in shown if len(series.x)]
        ys = [series.y[np.isfinite(series.y)] for series in shown]
        ys += [np.array([t.low0, t.low1, t.high0, t.high1, t.y0, t.y1]) for t in (s.trend for s in shown) if t]
        x_max = max([float(x.max()) for x in xs], default=0.0)
        grain = self.X_GRAIN[scale]
        x_range = (0.5, grain * math.ceil(max(x_max, self.X_LEAST[scale]) / grain) + 0.5)
        values = np.concatenate(ys) if ys else np.empty(0)
        values = values[np.isfinite(values)]
        lo, hi = (float(values.min()), float(values.max())) if len(values) else (-1.0, 1.0)
        lo, hi = min(lo, self.Y_SHOWN[scale][0]), max(hi, self.Y_SHOWN[scale][1])
        pad = max(0.15 * (hi - lo), 1.0)
        ticks = nice_ticks(lo - pad, hi + pad, most=5)
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        want = (step * math.floor((lo - pad) / step), step * math.ceil((hi + pad) / step))
        have = self._ranges.get(scale)
        if (have is None or x_range != have[0] or want[0] < have[1][0] or want[1] > have[1][1]
                or (want[1] - want[0]) < 0.5 * (have[1][1] - have[1][0])):
            self._ranges[scale] = x_range, want
            for side in SIDES:
                self.grids[side, scale].set(x_range, want)

    def ranges(self, scale: str) -> tuple[tuple[float, float], tuple[float, float]]:
        """The ``(x, y)`` ranges of both legs' ``scale`` plots."""
        return self._ranges[scale]

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
