"""What the trace and balance plots share: plots for looking at (no mouse zoom, menu or buttons),
:class:`StaticGrid` (grid lines as one path, the axes' ticks at them), and axes and background in a
theme's colours.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui

from gaitmon.report.svg import nice_ticks
from gaitmon.dashboard.widgets.theme import Theme


def fixed_plot(plot: pg.PlotItem, axis_width: int) -> None:
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
        self.path.setPen(pg.mkPen(mix(theme.foreground, theme.background, 0.2), width=1))


def mix(a: str, b: str, share_a: float) -> str:
    """The opaque colour ``share_a`` of the way from ``b`` to ``a`` (what a translucent ``a`` over ``b`` shows)."""
    ca, cb = QtGui.QColor(a), QtGui.QColor(b)
    mixed = [round(share_a * x + (1.0 - share_a) * y) for x, y in zip(ca.getRgb()[:3], cb.getRgb()[:3])]
    return QtGui.QColor(*mixed).name()


def keep_layout_minimum(widget: pg.GraphicsLayoutWidget) -> None:
    """Make ``widget``'s least size that of its plots' layout (titles, axis labels and tick labels
    whole; plots at their least height): Qt layouts then never squeeze it further, where its items
    would be clipped or overlap (call it again when a title's text changes)."""
    hint = widget.ci.layout.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize)
    frame = 2 * widget.frameWidth()
    widget.setMinimumSize(math.ceil(hint.width()) + frame, math.ceil(hint.height()) + frame)


def colour_plots(widget: pg.GraphicsLayoutWidget, plots, theme: Theme) -> None:
    """Background and axes of ``widget``'s ``plots`` in ``theme``'s colours."""
    widget.setBackground(theme.background)
    for plot in plots:
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setPen(theme.foreground)
            plot.getAxis(axis).setTextPen(theme.foreground)
