"""The dashboard's traces checked in their pixels, frame after frame of a live session (pytest-qt,
offscreen grabs of the real window): what the coach sees, not what the plot items were given.

- Every ▲ ● ▼ event marker in view is painted, on both legs, at every checked frame (pyqtgraph's
  scatter item culls its points with a view rectangle it caches; the window moves the item every
  frame, so a stale rectangle hides the newest strides: item data right, pixels wrong).
- After R (stop) and R (start) each ω trace is painted only where its samples are: no straight line
  from the first sample of the new session to "now" (the old session's last samples must not enter
  the new session's view).

Screenshots of failures go to pytest's temporary folder, or to ``$GAITMON_SCREENSHOTS``.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("pytestqt")
pg = pytest.importorskip("pyqtgraph")

from pyqtgraph.Qt import QtCore, QtGui  # noqa: E402

from gaitmon.dashboard import EmulatedSource, Engine  # noqa: E402
from gaitmon.dashboard.widgets.theme import SIDES  # noqa: E402
from gaitmon.dashboard.window import DashboardWindow, application  # noqa: E402

#: A sprint session streamed in real time, its first rep after 1 s of standing; 200 Hz to keep it light.
SPRINT_SOURCE = EmulatedSource("gaitmon_diy", "swing_plateau", seed=1, rate_hz=200.0, realtime=True,
                               sim_options={"n_reps": 3, "initial_standing_s": 1.0})
#: Frames between two checked frames (30 fps: 0.3 s), and how many frames are checked.
CHECK_EVERY_FRAMES, CHECKED_FRAMES = 9, 12
#: Pixels of a marker's fill colour required around its centre (a 13-px symbol has dozens).
MARKER_PIXELS = 6
#: Markers this close (px) to the plot's left or right edge are half outside it: not checked.
EDGE_PX = 8


def _window(qtbot, engine) -> DashboardWindow:
    application()
    window = DashboardWindow(engine)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    return window

class TracePixels:
    """One grab of the trace panel, with the mapping from a plot's data coordinates to its pixels."""

    def __init__(self, window: DashboardWindow):
        self.traces = traces = window.traces
        if QtGui.QGuiApplication.platformName() == "xcb":  # what the X server shows
            traces.viewport().repaint()  # the last frame drawn is on screen, not only in the scene
            corner = traces.mapTo(window, QtCore.QPoint(0, 0))
            picture = window.screen().grabWindow(window.winId(), corner.x(), corner.y(), traces.width(),
                                                 traces.height())
        else:  # Qt's offscreen platform: the widget painted into an image
            picture = traces.grab()
        self.image = picture.toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
        self.scale = self.image.devicePixelRatio()
        # RGB of every pixel as one int (0xRRGGBB), rows first
        bits = self.image.constBits()
        self.rgb = (np.frombuffer(bits, np.uint32, self.image.height() * self.image.bytesPerLine() // 4)
                    .reshape(self.image.height(), -1)[:, :self.image.width()] & 0xFFFFFF)

    def to_pixels(self, side: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Image pixel column and row of data points ``(x, y)`` of ``side``'s ω plot (x in s before now)."""
        view = self.traces.plots[side].getViewBox()
        (x0, x1), (y0, y1) = view.viewRange()
        box = self.area(side)
        px = box.left() + (np.asarray(x) - x0) / (x1 - x0) * box.width()
        py = box.top() + (y1 - np.asarray(y)) / (y1 - y0) * box.height()
        return px, py

    def area(self, side: str) -> QtCore.QRectF:
        """The ω plot's data area in image pixels."""
        view = self.traces.plots[side].getViewBox()
        top_left = self.traces.mapFromScene(view.sceneBoundingRect().topLeft())
        size = view.sceneBoundingRect().size()
        return QtCore.QRectF(top_left.x() * self.scale, top_left.y() * self.scale,
                             size.width() * self.scale, size.height() * self.scale)

    def count(self, colour: str, column: float, row: float, radius: int) -> int:
        """Pixels of ``colour`` within ``radius`` px of (column, row)."""
        c, r = int(round(column)), int(round(row))
        patch = self.rgb[max(0, r - radius):r + radius + 1, max(0, c - radius):c + radius + 1]
        return int(np.count_nonzero(patch == QtGui.QColor(colour).rgb() & 0xFFFFFF))


def _missing_markers(window: DashboardWindow, pixels: TracePixels) -> tuple[int, list[str]]:
    """(markers checked, descriptions of those in view whose colour is not painted where they are)."""
    snap = window.last
    checked, missing = 0, []
    for side in SIDES:
        box = pixels.area(side)
        for kind, marks in snap.legs[side].markers.items():
            colour = window.theme.markers[kind]
            columns, rows = pixels.to_pixels(side, marks.t - snap.t_end, marks.value)
            for t, column, row in zip(marks.t, columns, rows):
                if not (box.left() + EDGE_PX <= column <= box.right() - EDGE_PX and box.top() <= row <= box.bottom()):
                    continue
                checked += 1
                if pixels.count(colour, column, row, radius=5) < MARKER_PIXELS:
                    missing.append(f"{side} {kind} at t = {t:.2f} s ({t - snap.t_end:+.2f} s)")
    return checked, missing


def test_every_event_marker_in_view_is_painted_at_every_frame(qtbot, tmp_path, screenshot):
    engine = Engine({"Demo": SPRINT_SOURCE}, sessions_dir=tmp_path / "sessions", record=False, history_db=False)
    window = _window(qtbot, engine)
    engine.start()
    window.start()
    try:
        # strides on both legs: at least three of each marker in view
        qtbot.waitUntil(lambda: window.last is not None and all(
            side in window.last.legs and min(len(m.t) for m in window.last.legs[side].markers.values()) >= 3
            for side in SIDES), timeout=60_000)
        frame = window.frames
        for check in range(CHECKED_FRAMES):
            frame += CHECK_EVERY_FRAMES
            qtbot.waitUntil(lambda: window.frames >= frame, timeout=10_000)
            pixels = TracePixels(window)  # between two frames: the panel shows window.last
            checked, missing = _missing_markers(window, pixels)
            assert checked >= 2 * 3 * 2, f"frame {window.frames}: only {checked} markers in view"  # 2 legs, 3 kinds
            if missing:
                shot = screenshot(pixels.image, f"markers_missing_frame_{window.frames}")
                pytest.fail(f"frame {window.frames} (check {check + 1}): {len(missing)} of {checked} markers in "
                            f"view not painted: {', '.join(missing)}; picture: {shot}")
    finally:
        engine.stop()
    assert engine.failure is None


@pytest.fixture
def x_server():
    """A private Xvfb (its display, e.g. ``":3"``) on which Qt's xcb platform opens windows; skips without."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb not installed (Debian/Ubuntu: apt install xvfb): no real window to look at")
    read, write = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        display = f":{pipe.readline().strip()}"
    try:
        if display == ":":
            pytest.skip("Xvfb did not start")
        probe = subprocess.run([sys.executable, "-c", "from PySide6.QtWidgets import QApplication; QApplication([])"],
                               env={**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
                               capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            pytest.skip(f"Qt cannot open a window on Xvfb here (missing xcb libraries?): {probe.stderr.strip()[-300:]}")
        yield display
    finally:
        server.terminate()
        server.wait(10)


def test_every_event_marker_is_painted_on_a_real_x_server(x_server, tmp_path):
    """The marker test once more in a process whose window is on an X server (Qt's xcb platform), its
    pixels read back from the screen: the picture a coach sees, not an offscreen paint."""
    test = f"{Path(__file__).resolve()}::test_every_event_marker_in_view_is_painted_at_every_frame"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp",
                          str(tmp_path / "inner"), test],
                         env={**os.environ, "DISPLAY": x_server, "QT_QPA_PLATFORM": "xcb"},
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout


def _stray_trace_pixels(window: DashboardWindow, pixels: TracePixels, side: str) -> int:
    """Pixels of ``side``'s colour in its ω plot that no drawn sample explains.

    A pixel column of the curve spans the samples in it and its neighbours (the segments joining
    them), a few pixels of slack above and below; anything else is a line the data do not have.
    """
    snap = window.last
    leg = snap.legs[side]
    box = pixels.area(side)
    left, right = int(np.ceil(box.left())) + 1, int(np.floor(box.right())) - 1
    top, bottom = int(np.ceil(box.top())) + 1, int(np.floor(box.bottom())) - 1
    columns, rows = pixels.to_pixels(side, leg.t - snap.t_end, leg.omega)
    colour = QtGui.QColor(window.theme.legs[side]).rgb() & 0xFFFFFF
    stray = 0
    for column in range(left, right + 1):
        painted = np.flatnonzero(pixels.rgb[top:bottom + 1, column] == colour) + top
        if not len(painted):
            continue
        near = np.abs(columns - column) <= 2.0
        if not near.any():
            stray += len(painted)
            continue
        lo, hi = np.nanmin(rows[near]) - 3.0, np.nanmax(rows[near]) + 3.0
        stray += int(np.count_nonzero((painted < lo) | (painted > hi)))
    return stray


def test_a_restarted_recording_draws_no_line_from_the_old_session(qtbot, tmp_path, screenshot):
    engine = Engine({"Demo": SPRINT_SOURCE}, sessions_dir=tmp_path / "sessions", history_db=False)
    window = _window(qtbot, engine)
    engine.start()
    window.start()
    try:
        # running (strides on the traces), recording
        qtbot.waitUntil(lambda: window.last is not None and window.last.recording.state == "recording"
                        and all(side in window.last.legs for side in SIDES)
                        and len(window.last.legs["left"].markers["IC"].t) >= 3, timeout=60_000)
        qtbot.keyClick(window, QtCore.Qt.Key.Key_R)
        qtbot.waitUntil(lambda: window.last.recording.state == "stopped" and window.last.session_s > 1.5
                        and all(side in window.last.legs for side in SIDES), timeout=20_000)
        qtbot.keyClick(window, QtCore.Qt.Key.Key_R)
        qtbot.waitUntil(lambda: window.last.recording.state == "recording", timeout=20_000)
        # the new session's first frames with traces, then a few more
        qtbot.waitUntil(lambda: all(side in window.last.legs and len(window.last.legs[side].t) > 20
                                    for side in SIDES), timeout=20_000)
        for check in range(8):
            frame = window.frames + 6
            qtbot.waitUntil(lambda: window.frames >= frame, timeout=10_000)
            pixels = TracePixels(window)
            snap = window.last
            for side in SIDES:
                stray = _stray_trace_pixels(window, pixels, side)
                if stray:
                    shot = screenshot(pixels.image, f"stale_line_frame_{window.frames}")
                    pytest.fail(f"{side} ω, {snap.session_s:.2f} s into the new session: {stray} pixels of the "
                                f"trace where it has no samples; picture: {shot}")
                t = snap.legs[side].t
                assert np.all(np.diff(t) > 0), f"{side}: time stamps out of order: {t[:6]} …"
    finally:
        engine.stop()
    assert engine.failure is None
