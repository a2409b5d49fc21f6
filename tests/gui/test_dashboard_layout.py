"""The dashboard's layout on laptop and desktop screens (pytest-qt, offscreen; the same window under
Xvfb was looked at): it opens at a size that fits the screen, every part stays whole and apart down
to 1280×720 (the traces and big numbers keep their room, the tables go into tabs), the rep table
shows whole rows, the strength-balance axes are labelled and fit the data, and between reps the big
numbers keep the last rep's top-speed values.

Screenshots go to pytest's temporary folder, or to ``$GAITMON_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import dataclasses
import math
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from itertools import combinations  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("pytestqt")
pg = pytest.importorskip("pyqtgraph")

from pyqtgraph.Qt import QtCore, QtWidgets  # noqa: E402

from gaitmon.analysis.metrics import STEP_METRICS  # noqa: E402
from gaitmon.dashboard import EmulatedSource, Engine  # noqa: E402
from gaitmon.dashboard.widgets.tables import REP_COLUMNS, REP_UNITS  # noqa: E402
from gaitmon.dashboard.window import (FULL_LAYOUT_LEAST, PREFERRED_SIZE, DashboardWindow, application,  # noqa: E402
                                      fitted_geometry)

#: Screens the dashboard must fit (px): small and common laptops, the design size, full HD.
SCREENS = ((1280, 720), (1366, 768), (1600, 1000), (1920, 1080))


@pytest.fixture(scope="module")
def moments(tmp_path_factory):
    """Snapshots of an 8-rep session on the virtual clock: rep 6 under way (10 steps of a leg in),
    the walk back after rep 6, and the end (8 reps)."""
    taken = {}
    source = EmulatedSource("gaitmon_diy", "swing_plateau", seed=1, rate_hz=200.0, realtime=False,
                            sim_options={"n_reps": 8})

    def tick(session_s: float) -> None:
        snap = engine.snapshot("Demo", 5.0)
        leg = snap.balance.get("left")
        if (snap.current_rep == 6 and not snap.current_rep_over and len(leg.steps_swing.x) >= 10
                and "running" not in taken):
            taken["running"] = snap
        if (len(snap.reps) == 6 and snap.current_rep_over and session_s > snap.reps[-1].end_s + 4
                and "walk" not in taken):
            taken["walk"] = snap

    engine = Engine({"Demo": source}, sessions_dir=tmp_path_factory.mktemp("sessions"), record=False, on_tick=tick)
    engine.run_to_end()
    taken["end"] = engine.snapshot("Demo", 5.0)
    assert set(taken) == {"running", "walk", "end"} and len(taken["end"].reps) == 8
    return taken


def _window(qtbot, size: tuple[int, int]) -> DashboardWindow:
    application()
    window = DashboardWindow()
    qtbot.addWidget(window)
    window.athletes, window.athlete = ("Demo",), "Demo"
    window.resize(*size)
    window.show()
    return window


def _settle() -> None:
    for _ in range(3):
        QtWidgets.QApplication.processEvents()


def _rect_in(widget: QtWidgets.QWidget, ancestor: QtWidgets.QWidget) -> QtCore.QRect:
    return QtCore.QRect(widget.mapTo(ancestor, QtCore.QPoint(0, 0)), widget.size())


def _scene_rects_inside(view: pg.GraphicsLayoutWidget) -> list[str]:
    """Items of ``view``'s layout that are not whole inside the view (clipped)."""
    bounds = QtCore.QRectF(view.viewport().rect()).adjusted(-0.5, -0.5, 0.5, 0.5)
    outside = []
    for i in range(view.ci.layout.count()):
        item = view.ci.layout.itemAt(i)
        rect = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
        if not bounds.contains(QtCore.QRectF(rect)):
            outside.append(f"{type(item).__name__} at {rect}")
    return outside

@pytest.mark.parametrize("screen", SCREENS, ids=[f"{w}x{h}" for w, h in SCREENS])
def test_the_window_fits_the_screen_and_its_parts_are_whole_and_apart(qtbot, moments, screen, screenshot):
    available = QtCore.QRect(0, 0, *screen)
    geometry = fitted_geometry(available)
    assert available.contains(geometry) and geometry.center() == available.center()
    assert geometry.width() <= PREFERRED_SIZE[0] and geometry.height() <= PREFERRED_SIZE[1]
    window = _window(qtbot, geometry.size().toTuple())
    for moment in ("running", "end"):
        window.render(moments[moment])
    _settle()
    # the window keeps the size it was given: its least size fits the screen
    assert window.size() == geometry.size()
    least = window.minimumSizeHint()
    assert least.width() <= geometry.width() and least.height() <= geometry.height()
    compact = geometry.width() < FULL_LAYOUT_LEAST[0] or geometry.height() < FULL_LAYOUT_LEAST[1]
    assert window.compact == compact
    central = window.centralWidget()
    area = central.rect()
    side = window.side_tabs if compact else window.balance
    panels = {"banner": window.banner, "middle": window.middle,
              **{f"button {b.text()}": b for b in window.findChildren(QtWidgets.QPushButton)},
              "status": window.status_label}
    if not compact:
        panels["tables"] = window.bottom
    rects = {name: _rect_in(widget, central) for name, widget in panels.items()}
    rects["numbers"] = window.numbers.geometry()
    for name, rect in rects.items():
        assert area.contains(rect), (name, rect, area)
    for (a, ra), (b, rb) in combinations(rects.items(), 2):
        assert not ra.intersects(rb), (a, ra, b, rb)
    # traces beside the strength balance (or the tabs holding it and the tables), neither squeezed
    assert window.traces.isVisible() and side.isVisible() and window.balance.isVisible()
    traces, right = _rect_in(window.traces, central), _rect_in(side, central)
    assert not traces.intersects(right) and traces.width() > right.width()
    assert window.traces.height() >= window.traces.minimumHeight() > 250
    # the traces get at least the room they had in the 1600 × 1000 design with the tables under them
    assert window.traces.height() >= 300
    for view in (window.traces, window.balance):
        assert view.width() >= view.minimumWidth() and view.height() >= view.minimumHeight()
        assert not _scene_rects_inside(view), _scene_rects_inside(view)
    # the traces' axis titles: each beside its own plot, none over another
    titles = [window.traces.plots[name].getAxis("left").label.sceneBoundingRect()
              for name in ("left", "right", "acc")]
    for name, title in zip(("left", "right", "acc"), titles):
        view_box = window.traces.plots[name].getViewBox().sceneBoundingRect()
        assert view_box.top() - 1 <= title.top() and title.bottom() <= view_box.bottom() + 1, name
    for a, b in combinations(titles, 2):
        assert not a.intersects(b)
    screenshot(window, f"layout_{screen[0]}x{screen[1]}")


def test_a_small_window_keeps_the_traces_and_numbers_and_tabs_the_rest(qtbot, moments):
    window = _window(qtbot, (1264, 672))
    window.render(moments["end"])
    _settle()
    assert window.compact and not window.bottom.isVisible()
    tabs = [window.side_tabs.tabText(i) for i in range(window.side_tabs.count())]
    assert tabs == ["BALANCE", "REPS", "SENSORS"]
    assert [window.side_tabs.widget(i) for i in range(3)] == [window.balance, window.rep_table, window.health_table]
    assert window.banner.toolTip().startswith("Rests on") and not window.banner_evidence.isVisible()
    # a sensor in trouble shows on its tab, the table being out of sight
    left, right = moments["end"].health
    window.render(dataclasses.replace(moments["end"], health=(dataclasses.replace(left, state="reconnecting"), right)))
    assert window.side_tabs.tabText(2) == "SENSORS ⚠ 1"
    window.render(moments["end"])
    assert window.side_tabs.tabText(2) == "SENSORS"
    window.resize(1600, 1000)  # grown: the tables come back under the traces
    _settle()
    assert not window.compact and window.bottom.isVisible() and window.rep_table.isVisible()
    assert window.rep_table.parentWidget() is window.bottom and window.middle.widget(1) is window.balance
    assert window.banner_evidence.isVisible()


@pytest.mark.parametrize("size", [(1584, 952), (1264, 672)], ids=["full", "compact"])
def test_the_rep_table_shows_whole_rows_and_scrolls_to_the_rest(qtbot, moments, size):
    window = _window(qtbot, size)
    snap = moments["end"]
    window.render(snap)
    if window.compact:
        window.side_tabs.setCurrentWidget(window.rep_table)
    _settle()
    table = window.rep_table
    assert table.rowCount() == len(snap.reps) == 8
    view = table.viewport().height()
    row = table.rowHeight(0)
    shown = view // row
    assert shown >= table.LEAST_ROWS and view - shown * row < shown  # whole rows fill the view
    assert table.rowViewportPosition(shown - 1) + row <= view  # the last row in view is whole
    assert table.verticalScrollBar().maximum() > 0 if shown < 8 else table.verticalScrollBar().maximum() == 0
    table.scrollToBottom()
    _settle()
    last = table.rowViewportPosition(7)
    assert 0 <= last and last + table.rowHeight(7) <= view  # the oldest rep, whole, after scrolling
    heads = [table.horizontalHeaderItem(col).text() for col in range(table.columnCount())]
    assert heads == [f"{name}\n{REP_UNITS[name]}" for name in REP_COLUMNS]
    assert all(REP_UNITS[name] for name in REP_COLUMNS)
    assert heads[5:9] == ["Left swing\nrad/s", "Right swing\nrad/s", "Left push\n× body wt.",
                          "Right push\n× body wt."]
    # the flags are in view without scrolling sideways (in the narrow tab: right after the rep number)
    flags = REP_COLUMNS.index("Flags")
    table.horizontalScrollBar().setValue(0)
    _settle()
    left = table.columnViewportPosition(flags)
    assert 0 <= left and left + min(table.columnWidth(flags), 150) <= table.viewport().width()
    assert table.isColumnHidden(REP_COLUMNS.index("Steps")) == window.compact


def test_balance_axes_are_labelled_fit_the_data_and_are_shared_by_both_legs(qtbot, moments):
    window = _window(qtbot, (1584, 952))
    snap = moments["end"]
    window.render(snap)
    _settle()
    balance = window.balance
    steps = max(float(getattr(snap.balance[side], f"steps_{output}").x.max())
                for side in ("left", "right") for output in ("swing", "push"))
    for scale, last in (("reps", len(snap.reps)), ("steps", steps)):
        (x0, x1), (y0, y1) = balance.plots["left", scale].viewRange()
        assert [[x0, x1], [y0, y1]] == balance.plots["right", scale].viewRange()  # one scale for both legs
        assert x0 == 0.5 and last + 0.5 <= x1 <= last + 5.5, (scale, x1, last)  # not 10 reps for 8, 20 steps for 10
        if scale == "reps":
            assert x1 == last + 0.5
        for side in ("left", "right"):
            for output in ("swing", "push"):
                x, y = balance.items[side, scale, output]["points"].getData()
                assert x0 < x.min() and x.max() < x1 and y0 < y.min() and y.max() < y1
        label = balance.plots["right", scale].getAxis("bottom").labelText
        assert label == ("rep no." if scale == "reps" else "step no. (this leg)")
        assert all(balance.plots[side, scale].getAxis("left").labelText == "% of rep 1"
                   for side in ("left", "right"))
    # the legend is a row of its own above the plots: it covers no point
    legend = balance.legend.sceneBoundingRect()
    assert "swing side" in balance.legend.text and "push side" in balance.legend.text
    for plot in balance.plots.values():
        assert not legend.intersects(plot.getViewBox().sceneBoundingRect())
    assert balance.plots["left", "steps"].titleLabel.text.startswith("LEFT: steps of rep 8")


def test_between_reps_the_big_numbers_keep_the_last_reps_top_speed_values(qtbot, moments):
    window = _window(qtbot, (1584, 952))
    walk, running = moments["walk"], moments["running"]
    window.render(walk)
    assert walk.numbers.rep == 6 and window.numbers.caption.text() == "LAST REP 6\ntop speed"
    for side in ("left", "right"):
        for metric in STEP_METRICS:
            shown = window.number_labels[side, metric.key].text()
            assert shown == metric.text(walk.numbers.values[side][metric.key]) != "–"
        # not the latest step: the last of the rep, slowing down
        latest = walk.latest[side].swing_peak_rad_s
        assert not math.isclose(latest, walk.numbers.values[side]["swing_peak_rad_s"])
    window.render(running)
    assert running.numbers.rep is None and window.numbers.caption.text() == "LIVE\nlatest step"
    for side in ("left", "right"):
        step = running.latest[side]
        assert window.number_labels[side, "swing_peak_rad_s"].text() == f"{step.swing_peak_rad_s:.1f}"
        assert window.number_labels[side, "contact_s"].text() == f"{step.contact_s * 1e3:.0f}"
