"""The Qt dashboard, offscreen (pytest-qt): it opens on the demo source, updates, shows events, reps
and a flag, and its one-hand controls reach the engine.

Screenshots go to pytest's temporary folder, or to ``$GAITMON_SCREENSHOTS`` when that is set (to
look at them: ``GAITMON_SCREENSHOTS=shots python -m pytest tests/gui/test_dashboard_window.py``).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import dataclasses  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("pytestqt")
pg = pytest.importorskip("pyqtgraph")

from pyqtgraph.Qt import QtCore  # noqa: E402

from gaitmon.dashboard import EmulatedSource, Engine, ReplaySource  # noqa: E402
from gaitmon.dashboard.widgets.banner import banner_text  # noqa: E402
from gaitmon.dashboard.widgets.tables import REP_COLUMNS  # noqa: E402
from gaitmon.dashboard.window import DashboardWindow, application, dispose, save_png  # noqa: E402

#: The flag scenario on the demo source: 8 reps of a swing plateau, 200 Hz to keep it quick.
FLAG_SOURCE = EmulatedSource("gaitmon_diy", "swing_plateau", seed=1, rate_hz=200.0, realtime=False,
                             sim_options={"n_reps": 8})
#: A short real-time source for the controls.
LIVE_SOURCE = EmulatedSource("gaitmon_diy", "balanced", seed=0, rate_hz=200.0, realtime=True,
                             sim_options={"n_reps": 1, "recovery_s": 5.0})

def _points(item) -> int:
    """Points given to a plot item's setData."""
    x = item.getData()[0] if isinstance(item, pg.ScatterPlotItem) else item.xData
    return 0 if x is None else len(x)


def _window(qtbot, engine, **options) -> DashboardWindow:
    application()
    window = DashboardWindow(engine, **options)
    qtbot.addWidget(window)  # closed and deleted at teardown, while the QApplication lives
    window.resize(1600, 1000)
    window.show()
    return window


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="True is immortal from Python 3.12 on")
def test_the_qt_binding_keeps_its_references_to_true(qapp):
    """PySide6 6.12.0 on Python 3.11 dropped a reference to True per setData: a dashboard then aborts
    within minutes ("deallocating True"). pyproject.toml excludes it; this catches a binding that does it."""
    plot = pg.PlotWidget()
    curve = plot.plot()
    x = np.arange(100.0)
    before = sys.getrefcount(True)
    for _ in range(500):
        curve.setData(x, x, skipFiniteCheck=True)
        plot.setXRange(0.0, 10.0, padding=0)
    assert sys.getrefcount(True) - before > -50
    dispose(plot)


class _PauseWhenFlagged:
    """An ``on_tick`` hook that holds the virtual-clock engine still (time does not advance) once a
    flag is up and a rep is under way with at least ``steps`` left steps, until released."""

    def __init__(self, steps: int = 8):
        self.steps = steps
        self.engine: Engine | None = None
        self.paused = threading.Event()
        self.release = threading.Event()

    def __call__(self, session_s: float) -> None:
        if self.paused.is_set():
            return
        snap = self.engine.snapshot("Demo")
        leg = snap.balance.get("left")
        if (snap.banner is not None and snap.banner.alarm and snap.current_rep is not None
                and not snap.current_rep_over and leg is not None and len(leg.steps_swing.x) >= self.steps):
            self.paused.set()
            self.release.wait(60.0)


def test_window_on_the_demo_source_shows_events_reps_and_the_flag(qtbot, tmp_path, screenshot):
    pause = _PauseWhenFlagged()
    engine = Engine({"Demo": FLAG_SOURCE}, sessions_dir=tmp_path / "sessions", on_tick=pause)
    pause.engine = engine
    window = _window(qtbot, engine)
    engine.start()
    window.start()
    try:
        qtbot.waitUntil(lambda: window.frames > 3 and _points(window.traces.curves["left"]) > 0,
                        timeout=60_000)
        early = window.frames
        qtbot.waitUntil(pause.paused.is_set, timeout=120_000)
        # every part drawn (the timer draws one changed part per frame) from the held still moment
        qtbot.waitUntil(lambda: window.frames > early + 5 and not window.pending, timeout=10_000)
        snap = window.last
        assert snap.banner is not None and snap.banner.alarm

        # traces: both legs, with toe-off, mid-swing and initial-contact markers in view
        for side in ("left", "right"):
            curve = window.traces.curves[side]
            t = curve.xData  # s before now, decimated to about two points per pixel column
            leg = snap.legs[side]
            columns = window.traces.plots[side].getViewBox().width()
            assert 100 < _points(curve) <= 2 * columns + 20
            assert leg.t[-1] - snap.t_end - 0.02 < t[-1] <= 0.0 and t[0] == leg.t[0] - snap.t_end < -4.0
            assert np.nanmax(curve.yData) == np.nanmax(leg.omega)  # peaks survive the decimation
            x_range = window.traces.plots[side].viewRange()[0]
            for kind in ("TO", "MSW", "IC"):
                marks_t, marks_value = window.traces.shown_markers(side, kind)
                assert len(marks_t) >= 3, (side, kind)
                assert np.allclose(marks_t, leg.markers[kind].t - snap.t_end) and np.all(marks_t >= x_range[0] - 1e-9)
                assert np.array_equal(marks_value, leg.markers[kind].value)
            acc_curve = window.traces.acc_curves[side]
            assert np.array_equal(acc_curve.xData, t) and np.nanmax(acc_curve.yData) > 20.0  # sprint impacts
        # big numbers: every one filled for both legs, matching the latest complete step
        for side in ("left", "right"):
            step = snap.latest[side]
            assert window.number_labels[side, "contact_s"].text() == f"{step.contact_s * 1e3:.0f}"
            assert window.number_labels[side, "step_hz"].text() == f"{step.step_hz:.2f}"
            assert all(label.text() != "–" for (s, _), label in window.number_labels.items() if s == side)
        # rep table: one row per finished rep, newest first, flagged rows say so
        assert window.rep_table.rowCount() == len(snap.reps) >= 5
        assert window.rep_table.item(0, 0).text() == str(snap.reps[-1].rep)
        flag_column = REP_COLUMNS.index("Flags")
        flagged = {int(window.rep_table.item(row, 0).text()) for row in range(window.rep_table.rowCount())
                   if "swing plateau" in window.rep_table.item(row, flag_column).text()}
        assert flagged == {row.rep for row in snap.reps if row.alarm} and snap.banner.rep in flagged
        # the banner: the flag's sentence and what it rests on
        head, evidence, kind = banner_text(snap)
        assert kind == "alarm" and window.banner_head.text() == head and head.startswith("FLAG: ")
        assert "swing" in head and "push" in head and "CI" in evidence
        assert window.banner_evidence.text().startswith("Rests on reps")
        # strength balance: points and trend lines for both outputs of both legs
        for side in ("left", "right"):
            for output in ("swing", "push"):
                for scale in ("reps", "steps"):
                    parts = window.balance.items[side, scale, output]
                    x, y = parts["points"].getData()
                    assert len(x) == (len(snap.reps) if scale == "reps" else
                                      np.isfinite(getattr(snap.balance[side], f"steps_{output}").y).sum())
                    assert _points(parts["line"]) == 2 and parts["fan"].isVisible()
                    (x0, x1), (y0, y1) = window.balance.plots[side, scale].viewRange()
                    assert x0 < x.min() and x.max() < x1 and y0 < y.min() and y.max() < y1  # all in view
        # health: both sensors streaming at the rate asked for
        assert window.health_table.rowCount() == 2
        assert {window.health_table.item(r, 1).text() for r in range(2)} == {"streaming"}
        assert window.status_label.text().count("REC") == 1
        screenshot(window, "dashboard_flag_outdoor")
        window.toggle_theme()
        assert window.theme.name == "indoor"
        screenshot(window, "dashboard_flag_indoor")
    finally:
        pause.release.set()
        engine.stop()
    assert engine.failure is None


def test_one_hand_controls_reach_the_engine(qtbot, tmp_path, screenshot):
    engine = Engine({"Ana": LIVE_SOURCE, "Ben": dataclasses.replace(LIVE_SOURCE, seed=1)},
                    sessions_dir=tmp_path / "sessions", history_db=False)
    window = _window(qtbot, engine)
    engine.start()
    window.start()
    try:
        qtbot.waitUntil(lambda: window.last is not None and window.last.recording.state == "recording"
                        and any(h.samples for h in window.last.health), timeout=20_000)
        assert window.athlete == "Ana" and "ANA" in window.athlete_button.text()

        # Space marks a rep (journalled; drawn as a dashed line on the traces)
        qtbot.keyClick(window, QtCore.Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: len(window.last.marks) == 1, timeout=5_000)
        qtbot.waitUntil(lambda: any(line.isVisible() for line in window.traces._mark_items["left"]), timeout=5_000)

        # R stops the recording, the button starts a new one
        first = window.last.recording.folder
        qtbot.keyClick(window, QtCore.Qt.Key.Key_R)
        qtbot.waitUntil(lambda: window.last.recording.state == "stopped", timeout=10_000)
        assert window.record_button.text() == "● RECORD"
        qtbot.mouseClick(window.record_button, QtCore.Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.last.recording.state == "recording", timeout=10_000)
        assert window.last.recording.folder != first
        qtbot.waitUntil(lambda: (Path(first) / "steps.csv").exists(), timeout=20_000)  # tables of the closed one

        # A switches athlete, T the theme, F full screen (Esc leaves it)
        qtbot.keyClick(window, QtCore.Qt.Key.Key_A)
        assert window.athlete == "Ben" and window.last.athlete == "Ben" and "BEN" in window.athlete_button.text()
        assert window.drawn == ("traces", "numbers", "reps", "balance left", "balance right", "health")
        qtbot.keyClick(window, QtCore.Qt.Key.Key_T)
        assert window.theme.name == "indoor"
        qtbot.keyClick(window, QtCore.Qt.Key.Key_F)
        qtbot.waitUntil(window.isFullScreen, timeout=5_000)
        qtbot.keyClick(window, QtCore.Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=5_000)
        screenshot(window, "dashboard_controls_indoor")
    finally:
        engine.stop()
    assert engine.failure is None
    window.refresh()
    assert "ended" in window.status_label.text()
    assert not window.record_button.isEnabled()


def test_replay_shows_the_recording_and_offers_no_recording_controls(qtbot, tmp_path):
    recorded = Engine({"Cy": dataclasses.replace(LIVE_SOURCE, realtime=False)}, sessions_dir=tmp_path, history_db=False)
    recorded.run_to_end()
    folder = recorded.snapshot("Cy").recording.folder
    engine = Engine({"Cy": ReplaySource(Path(folder), speed=None)})
    window = _window(qtbot, engine)
    engine.start()
    window.start()
    try:
        qtbot.waitUntil(lambda: not engine.running, timeout=30_000)
        ended = window.frames
        qtbot.waitUntil(lambda: window.frames > ended + 1 and not window.pending, timeout=5_000)
        assert "REPLAY" in window.status_label.text()
        assert not window.record_button.isEnabled() and not window.mark_button.isEnabled()
        qtbot.keyClick(window, QtCore.Qt.Key.Key_R)  # ignored: a replay is not recorded again
        replayed, original = window.last, recorded.snapshot("Cy")
        assert replayed.reps == original.reps and len(replayed.reps) == 1
        assert replayed.latest == original.latest
        assert window.rep_table.rowCount() == 1
    finally:
        engine.stop()


def test_save_png_paints_a_snapshot_without_an_engine(tmp_path):
    engine = Engine({"Di": dataclasses.replace(LIVE_SOURCE, realtime=False)}, sessions_dir=tmp_path, record=False)
    engine.run_to_end()
    path = save_png(engine.snapshot("Di"), tmp_path / "shot" / "dashboard.png", size=(1280, 800))
    image = pg.QtGui.QImage(str(path))
    assert (image.width(), image.height()) == (1280, 800)
    # not a blank page: the leg colours of the outdoor theme are on it
    pixels = {image.pixelColor(x, y).name() for x in range(0, 1280, 4) for y in range(0, 800, 4)}
    assert len(pixels) > 20 and "#0046c8" in pixels


def test_a_new_analysis_is_drawn_one_part_per_frame(qtbot, tmp_path):
    """The timer's frames draw the traces and at most one changed part; render() alone draws all."""
    taken = []
    engine = Engine({"Di": dataclasses.replace(LIVE_SOURCE, realtime=False)}, sessions_dir=tmp_path, record=False,
                    on_tick=lambda session_s: taken.append(engine.snapshot("Di")))
    engine.run_to_end()
    before = next(snap for snap in taken if snap.current_rep == 1 and not snap.current_rep_over)  # rep 1 running
    after = engine.snapshot("Di")
    assert len(before.reps) == 0 and len(after.reps) == 1
    window = DashboardWindow()
    qtbot.addWidget(window)
    window.athletes, window.athlete = ("Di",), "Di"
    window.render(before)
    assert window.drawn == ("traces", "numbers", "reps", "balance left", "balance right", "health")
    drawn = []
    while True:
        window.render(after, parts_per_frame=1)
        drawn.append(window.drawn)
        if window.drawn == ("traces",):
            break
        if window.drawn[-1] == "numbers":
            assert window.rep_table.rowCount() == 0  # not yet: the rep table comes next frame
    assert drawn[:4] == [("traces", "numbers"), ("traces", "reps"), ("traces", "balance left"),
                         ("traces", "balance right")] and len(drawn) <= 6 and not window.pending
    assert window.rep_table.rowCount() == len(after.reps)
    for side in ("left", "right"):
        x, _ = window.balance.items[side, "reps", "swing"]["points"].getData()
        assert len(x) == len(after.reps)


def _close_dashboard_after(ms: int, seen: list) -> None:
    """Close the dashboard window the command opened, after ``ms`` of its event loop."""
    from pyqtgraph.Qt import QtWidgets

    def close() -> None:
        for widget in QtWidgets.QApplication.topLevelWidgets():
            if isinstance(widget, DashboardWindow) and widget.isVisible():
                seen.append(widget.last)
                widget.close()

    QtCore.QTimer.singleShot(ms, close)


def test_live_and_replay_commands_open_the_dashboard_when_there_is_a_display(qapp, monkeypatch, tmp_path):
    from gaitmon.cli import main
    from gaitmon.dashboard import window as window_module

    monkeypatch.setattr(window_module, "display_available", lambda: True)
    seen: list = []
    _close_dashboard_after(4000, seen)
    folder = tmp_path / "recording"
    status = main(["live", "--emulated", "gaitmon_diy", "--rate", "200", "--athlete", "Eve", "--out", str(folder),
                   "--no-history"])
    assert status == 0
    (snap,) = seen
    assert snap.athlete == "Eve" and snap.recording.state == "recording" and snap.recording.folder == str(folder)
    assert any(h.samples for h in snap.health)
    for name in ("journal.gmj", "session.json", "steps.csv", "health.csv", "report.html"):
        assert (folder / name).exists(), name

    _close_dashboard_after(3000, seen)
    assert main(["replay", str(folder), "--speed", "max"]) == 0
    assert seen[-1].recording.state == "replay" and seen[-1].athlete == "Eve"
    import csv

    with open(folder / "health.csv", newline="") as file:
        recorded = sum(int(row["samples"]) for row in csv.DictReader(file))
    assert sum(h.samples for h in seen[-1].health) == recorded > sum(h.samples for h in snap.health) > 0


def test_live_with_a_duration_closes_the_dashboard_and_returns_with_its_outputs(qapp, monkeypatch, tmp_path):
    import time

    from gaitmon.cli import main
    from gaitmon.dashboard import window as window_module

    monkeypatch.setattr(window_module, "display_available", lambda: True)
    forced: list = []
    safety = QtCore.QTimer(singleShot=True, interval=40_000)  # closes the window only if it stays open
    safety.timeout.connect(lambda: _close_dashboard_after(0, forced))
    safety.start()
    folder = tmp_path / "recording"
    started = time.perf_counter()
    try:
        status = main(["live", "--emulated", "gaitmon_diy", "--rate", "200", "--duration", "3", "--out", str(folder),
                       "--no-history"])
    finally:
        safety.stop()
    elapsed = time.perf_counter() - started
    assert status == 0 and not forced, f"the window was still open after {elapsed:.0f} s"
    assert 3.0 < elapsed < 30.0
    for name in ("journal.gmj", "session.json", "steps.csv", "health.csv", "report.html"):
        assert (folder / name).exists(), name


def test_an_x11_display_without_libxcb_cursor_runs_headless(monkeypatch):
    """Qt aborts the process when its xcb plugin lacks libxcb-cursor: that must mean headless, said once."""
    import ctypes.util

    from gaitmon.dashboard import can_show_window
    from gaitmon.dashboard import window as window_module

    monkeypatch.setattr(window_module.sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    said = []
    assert not can_show_window(said.append)
    assert len(said) == 1 and "libxcb-cursor" in said[0]
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"lib{name}.so.0")
    assert can_show_window(said.append) and len(said) == 1


def test_calibrated_numbers_say_so_in_their_heads(qtbot):
    from pyqtgraph.Qt import QtWidgets

    from gaitmon.dashboard.widgets.numbers import BigNumbers
    from gaitmon.engine.model import NO_NUMBERS

    application()
    holder = QtWidgets.QWidget()
    qtbot.addWidget(holder)
    numbers = BigNumbers()
    holder.setLayout(numbers)
    numbers.draw(NO_NUMBERS, "contact and flight times corrected by the calibration of 2025-03-01 (n = 120, x): …")
    calibrated = {key for key, head in numbers.heads.items() if "calibrated" in head.text()}
    assert calibrated == {"contact_s", "flight_s", "step_hz", "push_force_bw"}  # not the swing peak
    assert numbers.heads["contact_s"].toolTip().startswith("contact and flight times corrected")
    numbers.draw(NO_NUMBERS)
    assert not any("calibrated" in head.text() or head.toolTip() for head in numbers.heads.values())


def test_calibrated_rep_table_columns_say_so(qtbot):
    from gaitmon.dashboard.widgets.tables import REP_COLUMNS, RepTable, rep_head
    from gaitmon.dashboard.widgets.theme import THEMES

    application()
    table = RepTable()
    qtbot.addWidget(table)
    table.draw([], next(iter(THEMES.values())), "corrected by the calibration of 2025-03-01")
    heads = [table.horizontalHeaderItem(col).text() for col in range(len(REP_COLUMNS))]
    assert heads[2:5] == ["Contact\nms · calibrated", "Flight\nms · calibrated", "Step freq.\nHz · calibrated"]
    assert heads[5] == "Left swing\nrad/s"
    table.draw([], next(iter(THEMES.values())))
    assert [table.horizontalHeaderItem(col).text() for col in range(len(REP_COLUMNS))] == [
        rep_head(name) for name in REP_COLUMNS]


def _lost(inlet, pylsl) -> bool:
    """Whether ``inlet``'s stream has gone (its outlet withdrawn); the inlet does not look for it again."""
    try:
        inlet.pull_chunk(timeout=0.2)
    except pylsl.util.LostError:
        return True
    return False


def test_the_lsl_button_starts_and_stops_the_streams(qtbot, pylsl, tmp_path, screenshot):
    """One click publishes the athlete's streams (inlets on the loopback resolve them) and says "LSL ON";
    another withdraws them (the inlets lose them) while the session goes on."""
    from gaitmon.engine.lsl import stream_name

    athlete = f"Lsl{os.getpid()}"
    names = [stream_name(athlete, what) for what in ("left", "right", "events")]
    engine = Engine({athlete: LIVE_SOURCE}, sessions_dir=tmp_path, record=False, history_db=False)
    window = _window(qtbot, engine)
    engine.start()
    window.start()
    try:
        qtbot.waitUntil(lambda: window.lsl_button.isEnabled() and window.last is not None
                        and len(window.last.health) == 2 and all(s.state == "streaming" for s in window.last.health),
                        timeout=15_000)
        assert window.lsl_button.text() == "LSL OFF" and not window.lsl_button.isChecked() and not engine.lsl_on
        assert not pylsl.resolve_byprop("name", names[2], timeout=1.0)
        qtbot.mouseClick(window.lsl_button, QtCore.Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.lsl_button.text() == "● LSL ON", timeout=2_000)
        assert window.lsl_button.isChecked() and engine.lsl_on
        inlets = []
        for name in names:  # both legs and the markers
            found = pylsl.resolve_byprop("name", name, minimum=1, timeout=10.0)
            assert found, f"no stream {name!r} within 10 s of LSL ON"
            inlets.append(pylsl.StreamInlet(found[0], recover=False))
            inlets[-1].open_stream(timeout=5.0)
        screenshot(window, "dashboard-lsl-on")
        qtbot.mouseClick(window.lsl_button, QtCore.Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.lsl_button.text() == "LSL OFF", timeout=2_000)
        assert not engine.lsl_on
        qtbot.waitUntil(lambda: all(_lost(inlet, pylsl) for inlet in inlets), timeout=10_000)
        assert engine.running  # the session went on: only the streams stopped
    finally:
        engine.stop()
    assert engine.failure is None


def test_without_the_lsl_extra_the_button_is_disabled_and_says_why(qtbot, monkeypatch, screenshot):
    monkeypatch.setitem(sys.modules, "pylsl", None)  # import pylsl raises ImportError
    engine = Engine({"Ana": LIVE_SOURCE}, record=False, history_db=False)
    window = _window(qtbot, engine)
    window.refresh()
    qtbot.wait(50)  # laid out again for the button's new text
    button = window.lsl_button
    assert button.text() == "LSL —\nneeds gaitmon[lsl]" and not button.isEnabled()
    assert button.width() >= button.fontMetrics().horizontalAdvance("needs gaitmon[lsl]")  # the reason is readable
    screenshot(window, "lsl-button-without-the-extra")
