"""The coach's window (Qt through pyqtgraph's binding shim): it draws :class:`Snapshot` s, nothing else.

The window holds no session state. A ``QTimer`` on the GUI thread pulls the current athlete's
:meth:`Engine.snapshot` (immutable, a few hundred µs) and draws it; buttons and keys send the
engine's thread-safe commands, which never wait for the acquisition loop. :meth:`DashboardWindow.render`
draws any snapshot, so a headless run can paint one into a PNG (:func:`save_png`). The screen's
parts are widgets of :mod:`gaitmon.dashboard.widgets`; this module lays them out under the controls,
paces the frames and decides which part is drawn when, and handles the keys and buttons.

Drawing follows pyqtgraph's performance practice: 1-px cosmetic pens, numpy arrays to ``setData``,
only what is in view, peak downsampling (impact spikes stay visible), no OpenGL, and items made once
and re-filled. What made frames slow here (measured with ``benchmarks/bench_dashboard.py``) is
avoided: axes stand still (the traces' time axis ends "now" and the data move; ranges are set by the
window, not auto-ranged), grids are one path under the data rather than pyqtgraph's axis grids, and
plain curve and scatter items replace PlotDataItems. Only the traces are redrawn every frame; the
numbers, tables and strength-balance plots change only when a new analysis or health update
arrives, one of them per frame.

Layout, top to bottom: controls and recording state; the flag banner (sentence and evidence); the
current step's numbers for each leg in large type (between reps, the last rep's top-speed values);
traces (sagittal ω per leg with TO / MSW / IC markers, gaps shaded, hand marks dashed;
accelerometer magnitude) beside the strength-balance plots (per leg: swing- and push-side output in
% of the first rep, across reps and across the current rep's steps, with trend lines and their
confidence fans); the rep table and sensor health. The window opens at a size that fits its screen
(:func:`fitted_geometry`) and is resizable down to 1280×720 screens: in a window smaller than
:data:`FULL_LAYOUT_LEAST` the strength balance, rep table and sensor health become tabs beside the
traces, which keep the height (the traces and big numbers come first).

The LSL button publishes the athletes as Lab Streaming Layer streams, or stops (one click; it reads
"LSL ON" while they are published, and says why when it cannot be used, e.g. "needs gaitmon[lsl]").

Keys (one hand, or a presenter clicker): Space / Page Down mark a rep, R starts or stops
recording, A / Page Up switch athlete, T switches theme, F or F11 full screen, Esc leaves it.
"""

from __future__ import annotations

import math
import ctypes.util
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from gaitmon.dashboard.widgets.balance import BalancePanel
from gaitmon.dashboard.widgets.banner import FlagBanner
from gaitmon.dashboard.widgets.numbers import BigNumbers
from gaitmon.dashboard.widgets.tables import HealthTable, RepTable, health_cells
from gaitmon.dashboard.widgets.theme import THEMES, style_sheet
from gaitmon.dashboard.widgets.traces import TracePanel
from gaitmon.engine.model import VISIBLE_S, RecordingState, Snapshot
#: Redraws per second.
FPS = 30
#: What a new analysis redraws, in this order: banner and big numbers, rep table, balance plots.
ANALYSIS_PARTS = ("numbers", "reps", "balance left", "balance right")
#: Parts of the window redrawn only when their content changed (the traces are redrawn every frame).
PARTS = (*ANALYSIS_PARTS, "health")
#: The window's size (px) where the screen has room for it.
PREFERRED_SIZE = (1600, 1000)
#: Room (px) a window manager's frame and title bar take, kept free when the window fills a screen.
FRAME_PX = (16, 48)
#: Least width and height (px) of the window for the tables to stay under the traces; below, they go
#: into tabs beside them, so that the traces and big numbers keep their room.
FULL_LAYOUT_LEAST = (1400, 880)
#: Least height of the buttons (px): in the full layout, and in the compact one.
BUTTON_PX = {False: 64, True: 48}


def display_problem() -> str | None:
    """Why no window can be shown here, or None when it can (a desktop session).

    On X11, Qt ≥ 6.5's platform plugin needs libxcb-cursor; without it Qt aborts the process
    instead of failing, so it is looked for first and its absence is a reason to run headless.
    """
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.startswith(("offscreen", "minimal")):
        return f"QT_QPA_PLATFORM={platform}"
    if sys.platform.startswith("linux"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return "no display (DISPLAY and WAYLAND_DISPLAY unset)"
        x11 = platform.startswith("xcb") or not (platform or os.environ.get("WAYLAND_DISPLAY"))
        if x11 and ctypes.util.find_library("xcb-cursor") is None:
            return "the X11 display needs libxcb-cursor (Debian/Ubuntu: apt install libxcb-cursor0)"
    return None


def display_available() -> bool:
    """Whether a window can be shown (:func:`display_problem` finds nothing against it)."""
    return display_problem() is None


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


def fitted_geometry(available: QtCore.QRect) -> QtCore.QRect:
    """The window's geometry on a screen whose ``available`` area (without task bars) is given:
    :data:`PREFERRED_SIZE`, or that area less :data:`FRAME_PX` where smaller, centred in it."""
    width = min(PREFERRED_SIZE[0], available.width() - FRAME_PX[0])
    height = min(PREFERRED_SIZE[1], available.height() - FRAME_PX[1])
    geometry = QtCore.QRect(0, 0, width, height)
    geometry.moveCenter(available.center())
    return geometry


def _clock(seconds: float) -> str:
    seconds = max(0.0, seconds) if math.isfinite(seconds) else 0.0
    return f"{int(seconds // 60):02d}:{int(seconds % 60):02d}"


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
        button.setMinimumHeight(BUTTON_PX[False])
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
        self.lsl_button = self._button("", self.toggle_lsl, "Publish on the Lab Streaming Layer, or stop")
        self.lsl_button.setCheckable(True)
        #: Why LSL cannot be switched on here (shown on its button), or None.
        self.lsl_problem = self.engine.lsl_problem if self.engine is not None else None
        self.theme_button = self._button("", self.toggle_theme, "Outdoor / indoor colours (T)")
        self.full_button = self._button("FULL SCREEN", self.toggle_full_screen, "Full screen (F or F11; Esc leaves)")
        self.status_label = QtWidgets.QLabel()
        self.status_label.setObjectName("status")
        self.status_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        self.status_label.setWordWrap(True)  # two lines rather than a window wider than a small screen
        for widget in (self.athlete_button, self.record_button, self.mark_button, self.lsl_button):
            bar.addWidget(widget)
        bar.addWidget(self.status_label, 1)
        bar.addWidget(self.theme_button)
        bar.addWidget(self.full_button)
        outer.addLayout(bar)

        self.banner = FlagBanner()
        self.banner_head, self.banner_evidence = self.banner.head, self.banner.evidence
        outer.addWidget(self.banner)

        self.numbers = BigNumbers()
        self.number_labels = self.numbers.labels
        outer.addLayout(self.numbers)

        # the traces keep the height; the strength balance beside them; the tables under both, or, when
        # the window is small (see _arrange), in tabs with the strength balance
        self.traces = TracePanel(self.theme, self.visible_s)
        self.balance = BalancePanel(self.theme)
        self.rep_table = RepTable()
        self.health_table = HealthTable()
        self.middle = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.middle.setChildrenCollapsible(False)
        self.middle.addWidget(self.traces)
        self.middle.addWidget(self.balance)
        self.middle.setStretchFactor(0, 3)
        self.middle.setStretchFactor(1, 2)
        self.side_tabs = QtWidgets.QTabWidget()
        self.side_tabs.setObjectName("sideTabs")
        self.side_tabs.hide()
        outer.addWidget(self.middle, 1)
        self.bottom = QtWidgets.QWidget()
        bottom = QtWidgets.QHBoxLayout(self.bottom)
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.rep_table, 3)
        bottom.addWidget(self.health_table, 2)
        outer.addWidget(self.bottom)
        self.compact = False

    def _arrange(self, compact: bool) -> None:
        """Compact: lower buttons, the flag's evidence in the banner's tooltip only, and the strength
        balance, rep table and sensor health as tabs beside the traces; else the strength balance beside
        the traces and the tables under them."""
        if compact == self.compact:
            return
        self.compact = compact
        for button in (self.athlete_button, self.record_button, self.mark_button, self.lsl_button, self.theme_button,
                       self.full_button):
            button.setMinimumHeight(BUTTON_PX[compact])
        self.banner_evidence.setVisible(not compact)  # the banner's tooltip still shows it
        self.rep_table.set_compact(compact)
        if compact:
            self.middle.replaceWidget(1, self.side_tabs)
            self.side_tabs.show()
            for widget, name in ((self.balance, "BALANCE"), (self.rep_table, "REPS"), (self.health_table, "SENSORS")):
                self.side_tabs.addTab(widget, name)
                widget.show()
            self.bottom.hide()
            self._name_sensors_tab()
        else:
            self.side_tabs.clear()
            self.middle.replaceWidget(1, self.balance)
            self.bottom.layout().addWidget(self.rep_table, 3)
            self.bottom.layout().addWidget(self.health_table, 2)
            for widget in (self.balance, self.rep_table, self.health_table, self.bottom):
                widget.show()
        self.middle.setStretchFactor(1, 2)
        self.middle.setSizes([3000, 2000])  # 3 : 2, whatever the sizes before
        self.centralWidget().layout().activate()  # the window's least size follows now, before any resize
        self.layout().activate()

    def _name_sensors_tab(self) -> None:
        """In the compact layout the sensors' tab counts the sensors in trouble (neither streaming nor
        stopped): their table is out of sight there."""
        index = self.side_tabs.indexOf(self.health_table)
        if index >= 0:
            trouble = sum(s.state not in ("streaming", "stopped") for s in (self.last.health if self.last else ()))
            self.side_tabs.setTabText(index, f"SENSORS ⚠ {trouble}" if trouble else "SENSORS")

    def _arrange_for(self, size: QtCore.QSize) -> None:
        """Compact below :data:`FULL_LAYOUT_LEAST` (:meth:`_arrange`)."""
        self._arrange(size.width() < FULL_LAYOUT_LEAST[0] or size.height() < FULL_LAYOUT_LEAST[1])

    def resize(self, *size) -> None:
        """Resize, arranged for the new size first (a full layout's least height could hold it back)."""
        self._arrange_for(QtCore.QSize(*size))
        super().resize(*size)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt's name
        self._arrange_for(event.size())
        super().resizeEvent(event)

    def show_on_screen(self, full_screen: bool = False) -> None:
        """Show the window at :data:`PREFERRED_SIZE` in the middle of its screen, or, where that is too
        small, filling the screen's available area (maximised) so that nothing is off-screen."""
        geometry = fitted_geometry(self.screen().availableGeometry())
        self._arrange_for(geometry.size())
        self.setGeometry(geometry)
        if full_screen:
            self.showFullScreen()
        elif self.width() < PREFERRED_SIZE[0] or self.height() < PREFERRED_SIZE[1]:
            self.showMaximized()
        else:
            self.show()

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
        self.setStyleSheet(style_sheet(theme))
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

    def toggle_lsl(self) -> None:
        """LSL publishing on or off (every athlete's streams)."""
        if self.engine is not None and self.engine.running and not self.lsl_problem:
            self.engine.set_lsl(not self.engine.lsl_on)
        self._show_lsl()

    def _show_lsl(self) -> None:
        on = self.engine is not None and self.engine.lsl_on
        text = f"LSL —\n{self.lsl_problem}" if self.lsl_problem else ("● LSL ON" if on else "LSL OFF")
        if self.lsl_button.text() != text:
            self.lsl_button.setText(text)
        self.lsl_button.setChecked(on and not self.lsl_problem)
        self.lsl_button.setEnabled(not self.lsl_problem and self.engine is not None and self.engine.running)

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
            self.banner.draw(snap, self.theme)
            self.numbers.draw(snap.numbers, snap.calibration)
        elif part == "reps":
            self.rep_table.draw(snap.reps, self.theme, snap.calibration)
        elif part == "health":
            self.health_table.draw(snap.health, self.theme)
            self._name_sensors_tab()
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
        self._show_lsl()
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


def open_dashboard(engine, theme: str = "outdoor", full_screen: bool = False,
                   close_when_ended: bool = False) -> DashboardWindow:
    """Start ``engine`` and show a dashboard window on it (the caller runs Qt's loop, then disposes of
    the window and stops the engine, as :func:`run_window` does).

    ``close_when_ended``: also close the window when the engine ends by itself (its sources ended, as
    with ``gaitmon live --duration``); otherwise it stays, saying "ended", until the coach closes it.
    """
    window = DashboardWindow(engine, theme=theme)
    try:
        engine.start()
    except BaseException:
        dispose(window)
        raise
    window.start()
    if close_when_ended:
        watch = QtCore.QTimer(window)
        watch.timeout.connect(lambda: engine.running or window.close())
        watch.start(250)
    window.show_on_screen(full_screen)
    return window


def run_window(engine, theme: str = "outdoor", full_screen: bool = False,
               close_when_ended: bool = False) -> int:
    """Show the dashboard on ``engine`` (:func:`open_dashboard`) until the window is closed; then stop
    the engine. Returns 1 when the engine failed, else 0. Closing waits until the recordings are closed and
    their tables written (seconds for a long session).
    """
    import signal

    app = application()
    window: DashboardWindow | None = None
    previous = signal.signal(signal.SIGINT, lambda *_: window is not None and window.close())  # Ctrl-C closes it
    try:
        window = open_dashboard(engine, theme, full_screen, close_when_ended)
        app.exec()
    finally:
        signal.signal(signal.SIGINT, previous)
        if window is not None:
            dispose(window)
        engine.stop(timeout_s=None)  # the recordings close and their tables are written: wait for it
    return 1 if engine.failure is not None else 0
