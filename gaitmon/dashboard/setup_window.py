"""The set-up screen: pick the sensors, tell the legs apart, choose the athlete, start — no terminal.

It draws the Qt-free set-up of :mod:`gaitmon.engine.session_setup` and hands the choice to
``make_engine`` (``gaitmon live`` builds the same :class:`~gaitmon.engine.runtime.Engine` as with
``--left/--right``), then opens the dashboard on it (:func:`gaitmon.dashboard.window.open_dashboard`).

Top to bottom: **1 Sensors** — the scan list, one big row per supported sensor (family, name,
battery, signal) with a LEFT and a RIGHT button to put it on that leg; **2 Legs** — which sensor is
on which leg, and the check: both stream while the athlete lifts one knee, and the sensor whose gyro
turns is on that leg (a swapped pair is offered a SWAP); **3 Athlete** — the history's roster, or a
new name typed in; START (once the check has confirmed the legs).

Keys (one hand, or a presenter clicker): Enter does the highlighted next step (put the selected
sensor on the next free leg, check, swap, start); ↑ ↓ / Page Up Page Down choose a sensor (once the
legs are confirmed: an athlete of the roster); ← → put the selected sensor on the left / right leg;
S swaps the legs; F5 scans again; F / F11 full screen, Esc leaves it.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from gaitmon.consts import SIDES
from gaitmon.dashboard.widgets.theme import THEMES, style_sheet
from gaitmon.dashboard.window import DashboardWindow, application, dispose, open_dashboard
from gaitmon.engine.runtime import Engine
from gaitmon.engine.session_setup import (SCAN_S, CheckProgress, LegCheck, ScanProgress, SensorSetup, SessionChoice,
                                          Watch, family_label, roster, signal_bars)
from gaitmon.errors import InputError
from gaitmon.sources.ble import FoundSensor

#: How often the screen looks at the scan and the check, ms.
POLL_MS = 100
#: Signal bars drawn for 1–4 bars.
BARS = "▂▄▆█"


def _label(text: str = "", name: str = "") -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    if name:
        label.setObjectName(name)
    return label


def _button(text: str, slot: Callable[[], None], tip: str, width: int = 150) -> QtWidgets.QPushButton:
    button = QtWidgets.QPushButton(text)
    button.setMinimumHeight(64)
    button.setMinimumWidth(width)
    button.setToolTip(tip)
    button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    button.clicked.connect(slot)
    return button


def battery_text(sensor: FoundSensor, reading: bool = True) -> str:
    """``battery 87 %``; without a level, ``battery …`` while levels are being read, else ``battery —``
    (the sensor does not report one, or could not be reached)."""
    if sensor.battery_pct is not None:
        return f"battery {sensor.battery_pct} %"
    return "battery …" if reading else "battery —"


def signal_text(sensor: FoundSensor) -> str:
    bars = signal_bars(sensor.rssi)
    return f"{BARS[:bars]}{'·' * (4 - bars)} {sensor.rssi} dBm"


class SensorRow(QtWidgets.QFrame):
    """One sensor of the scan list: family, name, battery, signal; LEFT and RIGHT put it on a leg."""

    def __init__(self, sensor: FoundSensor, window: SetupWindow):
        super().__init__()
        self.sensor = sensor
        self.setObjectName("sensorRow")
        self.setMinimumHeight(84)
        layout = QtWidgets.QGridLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.setHorizontalSpacing(12)
        self.name = _label(sensor.name or sensor.address, "sensorName")
        self.family = _label(f"{family_label(sensor)} · {sensor.address}", "sensorFamily")
        self.battery = _label(battery_text(sensor), "sensorValue")
        self.signal = _label(signal_text(sensor), "sensorValue")
        self.signal.setToolTip("signal strength (RSSI)")
        layout.addWidget(self.name, 0, 0)
        layout.addWidget(self.family, 1, 0)
        layout.addWidget(self.battery, 0, 1)
        layout.addWidget(self.signal, 1, 1)
        layout.setColumnStretch(0, 1)
        self.buttons = {side: _button(side.upper(), lambda *_, side=side: window.assign(self.sensor.address, side),
                                      f"This sensor is on the {side} leg ({'←' if side == 'left' else '→'})", 110)
                        for side in SIDES}
        for column, button in enumerate(self.buttons.values(), start=2):
            layout.addWidget(button, 0, column, 2, 1)

    def update_sensor(self, sensor: FoundSensor, reading: bool) -> None:
        self.sensor = sensor
        self.battery.setText(battery_text(sensor, reading))
        self.signal.setText(signal_text(sensor))

    def show_state(self, selected: bool, leg: str | None, theme) -> None:
        colour = theme.legs[leg] if leg else theme.foreground
        border = 6 if selected else 2
        self.setStyleSheet(f"QFrame#sensorRow {{ border: {border}px solid {colour if leg or selected else theme.muted};"
                           f" border-radius: 8px; background: {theme.panel if selected else theme.background}; }}")
        for side, button in self.buttons.items():
            on = side == leg
            button.setStyleSheet(f"background: {theme.legs[side]}; color: {theme.background};" if on else "")

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        window = self.window()
        if isinstance(window, SetupWindow):
            window.select(self.sensor.address)
        super().mousePressEvent(event)


class SetupWindow(QtWidgets.QMainWindow):
    """The set-up screen (see the module docstring).

    Parameters
    ----------
    setup : SensorSetup
        Does the radio work (scans, leg checks); closed before the session starts.
    make_engine : callable
        ``make_engine(choice: SessionChoice) -> Engine``: the session to run (not started yet);
        gaitmon.errors.InputError is shown on the screen.
    athletes : sequence of str
        The roster to choose from.
    athlete : str
        The athlete shown at first.
    theme : {"outdoor", "indoor"}
    scan_s : float
        How long a scan listens, s.
    """

    def __init__(self, setup: SensorSetup, make_engine: Callable[[SessionChoice], Engine], athletes=(),
                 athlete: str = "", theme: str = "outdoor", scan_s: float = SCAN_S):
        super().__init__()
        self.setup = setup
        self.make_engine = make_engine
        self.theme = THEMES[theme]
        self.scan_s = scan_s
        self.sensors: tuple[FoundSensor, ...] = ()
        self.selected: str | None = None  # address
        self.legs: dict[str, str] = {}  # side → address
        #: The legs as the last check found them (side → address), {} before a conclusive check.
        self.verified: dict[str, str] = {}
        self.last_check: LegCheck | None = None
        self._scan: Watch | None = None
        self._check: Watch | None = None
        self._check_legs: dict[str, str] = {}  # the legs as they were checked (side → address)
        self._shown: tuple = ()
        #: The session's engine and its dashboard, once START has opened them.
        self.engine: Engine | None = None
        self.dashboard: DashboardWindow | None = None
        self.setWindowTitle("gaitmon — set up a session")
        self._build(athletes, athlete)
        self._shortcuts()
        self.setStyleSheet(style_sheet(self.theme) + self._extra_style())
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.poll)
        self.timer.start(POLL_MS)
        self.refresh()

    # -- building ------------------------------------------------------------------------------------
    def _extra_style(self) -> str:
        theme = self.theme
        return f"""
            QLabel#setupHead {{ font-size: 26px; font-weight: bold; }}
            QLabel#step {{ font-size: 22px; font-weight: bold; color: {theme.muted}; }}
            QLabel#sensorName {{ font-size: 24px; font-weight: bold; }}
            QLabel#sensorFamily {{ font-size: 15px; color: {theme.muted}; }}
            QLabel#sensorValue {{ font-size: 20px; }}
            QFrame#sensorRow QLabel {{ background: transparent; }}
            QComboBox::drop-down {{ width: 48px; }}
            QLabel#promptDetail {{ font-size: 16px; }}
            QLabel#legBox {{ font-size: 22px; font-weight: bold; border: 3px solid {theme.muted}; border-radius: 8px;
                            padding: 6px; }}
            QLabel#prompt {{ font-size: 24px; font-weight: bold; }}
            QLabel#keys {{ font-size: 14px; color: {theme.muted}; }}
            QComboBox {{ font-size: 26px; font-weight: bold; min-height: 60px; border: 3px solid {theme.foreground};
                         border-radius: 8px; padding: 2px 10px; }}
            QComboBox QAbstractItemView {{ font-size: 24px; }}
            QPushButton#primary {{ border-width: 6px; background: {theme.alarm_bg}; color: {theme.alarm_fg}; }}
            QLabel#listNote {{ font-size: 18px; font-weight: bold; color: {theme.bad}; }}
        """

    def _build(self, athletes, athlete: str) -> None:
        central = QtWidgets.QWidget()
        self.setCentralWidget(central)
        outer = QtWidgets.QVBoxLayout(central)
        outer.setContentsMargins(10, 10, 10, 10)
        outer.setSpacing(8)

        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(_label("SET UP A SESSION", "setupHead"))
        self.status_label = _label("", "status")
        self.status_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        self.status_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        bar.addWidget(self.status_label, 1)
        self.full_button = _button("FULL SCREEN", self.toggle_full_screen, "Full screen (F or F11; Esc leaves)")
        bar.addWidget(self.full_button)
        outer.addLayout(bar)

        columns = QtWidgets.QHBoxLayout()
        columns.setSpacing(16)
        left = QtWidgets.QVBoxLayout()
        head = QtWidgets.QHBoxLayout()
        head.addWidget(_label("1  SENSORS", "step"), 1)
        self.scan_button = _button("SCAN", self.scan, "Look for sensors again (F5)")
        head.addWidget(self.scan_button)
        left.addLayout(head)
        self.list_area = QtWidgets.QScrollArea()
        self.list_area.setWidgetResizable(True)
        self.list_area.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_area.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        holder = QtWidgets.QWidget()
        self.list_layout = QtWidgets.QVBoxLayout(holder)
        self.list_layout.setSpacing(6)
        self.list_layout.addStretch(1)
        self.list_area.setWidget(holder)
        left.addWidget(self.list_area, 1)
        self.list_note = _label("", "listNote")
        self.list_note.setWordWrap(True)
        left.addWidget(self.list_note)
        self.rows: dict[str, SensorRow] = {}
        columns.addLayout(left, 3)

        right = QtWidgets.QVBoxLayout()
        right.addWidget(_label("2  LEGS", "step"))
        boxes = QtWidgets.QHBoxLayout()
        self.leg_boxes = {side: _label("", "legBox") for side in SIDES}
        for box in self.leg_boxes.values():
            box.setMinimumHeight(80)
            box.setWordWrap(True)
            boxes.addWidget(box)
        right.addLayout(boxes)
        self.prompt = _label("", "prompt")
        self.prompt.setWordWrap(True)
        self.prompt.setMinimumHeight(110)
        self.prompt.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        right.addWidget(self.prompt)
        self.prompt_detail = _label("", "promptDetail")
        self.prompt_detail.setWordWrap(True)
        right.addWidget(self.prompt_detail)
        checks = QtWidgets.QHBoxLayout()
        self.check_button = _button("CHECK LEGS", self.check_legs, "Stream the sensors while the athlete lifts a knee")
        self.swap_button = _button("SWAP", self.swap, "Swap the left and right sensors (S)")
        checks.addWidget(self.check_button)
        checks.addWidget(self.swap_button)
        right.addLayout(checks)
        right.addSpacing(12)
        right.addWidget(_label("3  ATHLETE", "step"))
        self.athlete_box = QtWidgets.QComboBox()
        self.athlete_box.setEditable(True)
        self.athlete_box.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        self.athlete_box.addItems(list(athletes))
        self.athlete_box.lineEdit().setPlaceholderText("choose, or type a new name")
        self.athlete_box.setEditText(athlete)
        self.athlete_box.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)
        self.athlete_box.lineEdit().returnPressed.connect(self.setFocus)
        right.addWidget(self.athlete_box)
        right.addStretch(1)
        self.start_button = _button("START", self.start_session, "Start the session and open the dashboard", 260)
        self.start_button.setMinimumHeight(72)
        right.addWidget(self.start_button)
        columns.addLayout(right, 2)
        outer.addLayout(columns, 1)

        keys = ("Enter: next step · ↑ ↓ or Page Up / Down: choose · ← →: sensor on the left / right leg · "
                "S: swap · F5: scan again · F: full screen")
        outer.addWidget(_label(keys, "keys"))
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)

    def _shortcuts(self) -> None:
        keys = {self.scan: ("F5",), self.toggle_full_screen: ("F", "F11"), self.leave_full_screen: ("Esc",)}
        for slot, sequences in keys.items():
            for sequence in sequences:
                QtGui.QShortcut(QtGui.QKeySequence(sequence), self).activated.connect(slot)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 - Qt's name
        key = QtCore.Qt.Key
        actions = {key.Key_Return: self.next_step, key.Key_Enter: self.next_step,
                   key.Key_Up: lambda: self.move(-1), key.Key_PageUp: lambda: self.move(-1),
                   key.Key_Down: lambda: self.move(1), key.Key_PageDown: lambda: self.move(1),
                   key.Key_Left: lambda: self.assign_selected("left"),
                   key.Key_Right: lambda: self.assign_selected("right"), key.Key_S: self.swap}
        action = actions.get(event.key())
        if action is None:
            super().keyPressEvent(event)
            return
        action()

    # -- state ---------------------------------------------------------------------------------------
    @property
    def checking(self) -> bool:
        return self._check is not None and self._check.progress.phase in ("connecting", "lift")

    @property
    def scanning(self) -> bool:
        return self._scan is not None and self._scan.progress.phase == "scanning"

    @property
    def confirmed(self) -> bool:
        """The legs as assigned are the legs the last check found."""
        return bool(self.legs) and self.legs == self.verified

    def next_action(self) -> str:
        """What Enter does now: ``scan``, ``assign``, ``check``, ``swap``, ``start`` or "" (wait)."""
        if self.scanning or self.checking:
            return ""
        if not self.sensors:
            return "scan"
        free = [side for side in SIDES if side not in self.legs]
        unplaced = [s for s in self.sensors if s.address not in self.legs.values()]
        if not self.legs or (free and unplaced and self.selected in {s.address for s in unplaced}):
            return "assign"
        if self.confirmed:
            return "start"
        if self.last_check is not None and self.last_check.swapped and _swapped(self.legs) == self.verified:
            return "swap"
        return "check"

    # -- commands ------------------------------------------------------------------------------------
    def scan(self) -> None:
        if self.scanning or self.checking:
            return
        self._scan = self.setup.scan(self.scan_s)
        self.refresh()

    def select(self, address: str) -> None:
        self.selected = address
        self.refresh()

    def move(self, step: int) -> None:
        """Choose the next (``step`` 1) or previous (−1) sensor; athlete once the legs are confirmed."""
        if self.confirmed and self.athlete_box.count():
            index = self.athlete_box.findText(self.athlete_box.currentText())
            self.athlete_box.setCurrentIndex((index + step) % self.athlete_box.count() if index >= 0 else 0)
            return
        addresses = [s.address for s in self.sensors]
        if not addresses:
            return
        index = addresses.index(self.selected) if self.selected in addresses else -step
        self.select(addresses[(index + step) % len(addresses)])

    def assign(self, address: str, side: str) -> None:
        """Put the sensor ``address`` on the ``side`` leg (the sensor there before moves to the other leg
        when this one came from it, else leaves)."""
        if self.checking:
            return
        previous_side = next((s for s, a in self.legs.items() if a == address), None)
        displaced = self.legs.get(side)
        self.legs[side] = address
        if previous_side is not None and previous_side != side:
            del self.legs[previous_side]
            if displaced is not None:
                self.legs[previous_side] = displaced
        self.selected = address
        unplaced = [s.address for s in self.sensors if s.address not in self.legs.values()]
        if unplaced and len(self.legs) < len(SIDES):
            self.selected = unplaced[0]
        self.refresh()

    def assign_selected(self, side: str) -> None:
        if self.selected is not None:
            self.assign(self.selected, side)

    def swap(self) -> None:
        if self.checking or not self.legs:
            return
        self.legs = _swapped(self.legs)
        self.refresh()

    def check_legs(self) -> None:
        if self.checking or not self.legs:
            return
        asked = "left" if "left" in self.legs else "right"
        self._check = self.setup.check_legs(self.legs, asked)
        self._check_legs = dict(self.legs)
        self.refresh()

    def next_step(self) -> None:
        action = self.next_action()
        if action == "scan":
            self.scan()
        elif action == "assign":
            free = [side for side in SIDES if side not in self.legs]
            self.assign(self.selected or self.sensors[0].address, free[0] if free else "left")
        elif action == "check":
            self.check_legs()
        elif action == "swap":
            self.swap()
        elif action == "start":
            self.start_session()

    def athlete(self) -> str:
        return self.athlete_box.currentText().strip()

    def start_session(self) -> None:
        """Hand the choice to ``make_engine`` and open the dashboard on it (confirmed legs only)."""
        if not self.confirmed or self.checking or self.engine is not None:
            return
        choice = SessionChoice(self.athlete(), dict(self.legs), self.setup.backends)
        self.timer.stop()
        self.setup.close()  # the radio is free before the session's loop uses it
        try:
            engine = self.make_engine(choice)
            self.dashboard = open_dashboard(engine, self.theme.name, self.isFullScreen())
        except InputError as error:
            self.list_note.setText(f"Could not start: {error}")
            return
        self.engine = engine
        self.close()

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def leave_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()

    # -- drawing ---------------------------------------------------------------------------------------
    def poll(self) -> None:
        """The timer's slot: take in the scan's and the check's progress."""
        scan: ScanProgress | None = self._scan.progress if self._scan is not None else None
        check: CheckProgress | None = self._check.progress if self._check is not None else None
        if (scan, check) == self._shown:
            return
        if scan is not None and scan.sensors != self.sensors:
            self.sensors = scan.sensors
            addresses = {s.address for s in self.sensors}
            self.legs = {side: a for side, a in self.legs.items() if a in addresses}
            if self.selected not in addresses:
                self.selected = next(iter(s.address for s in self.sensors if s.address not in self.legs.values()),
                                     None)
        result = check.result if check is not None and check.phase == "done" else None
        if result is not None and result is not self.last_check:
            self.last_check = result
            self.verified = {}
            if result.lifted is not None:  # the sensor that turned is on the asked leg, the other on the other
                turned = self._check_legs[result.lifted]
                self.verified = {result.asked: turned}
                self.verified.update({_other(result.asked): a for a in self._check_legs.values() if a != turned})
        self.refresh()

    def refresh(self) -> None:
        """Draw the state: rows, legs, prompt, buttons and which of them Enter presses."""
        scan = self._scan.progress if self._scan is not None else None
        check = self._check.progress if self._check is not None else None
        self._shown = (scan, check)
        self._draw_rows()
        theme = self.theme
        for side, box in self.leg_boxes.items():
            address = self.legs.get(side)
            colour = theme.legs[side]
            battery = next((s.battery_pct for s in self.sensors if s.address == address), None)
            battery = (check.battery.get(side) if check is not None and check.battery.get(side) is not None
                       and self._check_legs.get(side) == address else battery)
            text = f"{side.upper()}<br>{self._name(address) if address else 'not set'}"
            if battery is not None:
                text += f" · {battery} %"
            box.setText(f"<span style='color:{colour}'>{text}</span>")
            box.setStyleSheet(f"border-color: {colour if address else theme.muted};")
        self._draw_prompt(check)
        self._draw_status(scan)
        action = self.next_action()
        self.scan_button.setEnabled(not (self.scanning or self.checking))
        self.check_button.setEnabled(bool(self.legs) and not self.checking)
        self.swap_button.setEnabled(len(self.legs) == 2 and not self.checking)
        self.start_button.setEnabled(self.confirmed and not self.checking)
        self.check_button.setText("CHECK AGAIN" if self.last_check is not None and not self.confirmed
                                  and action == "check" else "CHECK LEGS")
        for name, button in (("scan", self.scan_button), ("check", self.check_button), ("swap", self.swap_button),
                             ("start", self.start_button)):
            primary = name == action
            if (button.objectName() == "primary") != primary:
                button.setObjectName("primary" if primary else "")
                button.style().unpolish(button)
                button.style().polish(button)

    def _draw_rows(self) -> None:
        addresses = [s.address for s in self.sensors]
        reading = self._scan is not None and self._scan.progress.phase in ("scanning", "batteries")
        for address in [a for a in self.rows if a not in addresses]:
            row = self.rows.pop(address)
            self.list_layout.removeWidget(row)
            row.deleteLater()
        for sensor in self.sensors:
            if sensor.address not in self.rows:
                self.rows[sensor.address] = SensorRow(sensor, self)
                self.list_layout.insertWidget(self.list_layout.count() - 1, self.rows[sensor.address])
            row = self.rows[sensor.address]
            row.update_sensor(sensor, reading)
            leg = next((side for side, a in self.legs.items() if a == sensor.address), None)
            row.show_state(sensor.address == self.selected, leg, self.theme)
            for button in row.buttons.values():
                button.setEnabled(not self.checking)
        if self.selected in self.rows:
            self.list_area.ensureWidgetVisible(self.rows[self.selected])

    def _draw_prompt(self, check: CheckProgress | None) -> None:
        theme = self.theme
        # A verdict is about the legs as they were checked: reassigned since, it no longer applies.
        last = self.last_check if self.confirmed or self.legs == self._check_legs else None
        if check is not None and check.phase == "connecting":
            text, colour = "Connecting to the sensors… the athlete stands still", theme.muted
        elif check is not None and check.phase == "lift":
            text, colour = (f"<span style='font-size:44px'>LIFT YOUR {check.asked.upper()} KNEE NOW</span>",
                            theme.legs[check.asked])
        elif check is not None and check.phase == "failed":
            text, colour = f"Check failed: {check.error}", theme.bad
        elif last is not None and self.confirmed:
            asked = last.asked
            text, colour = (f"✔ Legs confirmed: {self._name(self.legs[asked])} turned with the {asked.upper()} knee",
                            theme.ok)
        elif last is not None and last.swapped:
            text, colour = f"{last.text}. Press SWAP.", theme.warn
        elif last is not None and last.lifted is None:
            text, colour = last.text, theme.bad
        elif self.next_action() == "assign" and self.selected is not None:
            free = next(side for side in SIDES if side not in self.legs)
            text, colour = (f"Tap LEFT or RIGHT on the sensor strapped to that leg (Enter: "
                            f"{self._name(self.selected)} on the {free.upper()} leg)", theme.foreground)
        elif self.legs:
            asked = "left" if "left" in self.legs else "right"
            text, colour = (f"CHECK LEGS: the athlete stands, then lifts the {asked.upper()} knee when asked; the "
                            "sensor that turns is on that leg", theme.foreground)
        elif not self.sensors:
            text, colour = "SCAN finds the sensors: switch them on, strap them on the shanks", theme.foreground
        else:
            text, colour = "Tap LEFT or RIGHT on the sensor strapped to that leg", theme.foreground
        self.prompt.setText(f"<span style='color:{colour}'>{text}</span>")
        detail = ""
        if check is not None and check.phase == "lift":
            detail = "once, high and quickly; the other leg stands still"
        elif last is not None and (check is None or check.phase == "done"):
            detail = last.readings({role: self._name(address) for role, address in self._check_legs.items()})
        self.prompt_detail.setText(detail)

    def _name(self, address: str) -> str:
        return next((s.name for s in self.sensors if s.address == address and s.name), address)

    def _draw_status(self, scan: ScanProgress | None) -> None:
        theme = self.theme
        if scan is None:
            text, colour = "", theme.muted
        elif scan.phase == "scanning":
            text, colour = f"scanning ({self.scan_s:g} s)…", theme.muted
        elif scan.phase == "failed":
            text, colour = "scan failed", theme.bad
        elif not scan.sensors:
            text, colour = "no sensor found", theme.bad
        else:
            reading = " · reading batteries…" if scan.phase == "batteries" else ""
            found = len(scan.sensors)
            text, colour = f"{found} sensor{'s' * (found != 1)} found{reading}", theme.foreground
        self.status_label.setText(f"<span style='color:{colour}'>{text}</span>")
        note = ""
        if scan is not None and scan.phase == "failed":
            note = f"The scan failed: {scan.error}"
        elif scan is not None and scan.phase == "done" and not scan.sensors:
            note = ("No supported sensor seen: are they on, charged, in range and not connected to another "
                    "device? Then SCAN again.")
        self.list_note.setText(note)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.timer.stop()
        self.setup.close()
        super().closeEvent(event)


def _other(side: str) -> str:
    return SIDES[1 - SIDES.index(side)]


def _swapped(legs: dict[str, str]) -> dict[str, str]:
    return {_other(side): address for side, address in legs.items()}


def run_setup(make_engine: Callable[[SessionChoice], Engine], backends=(None, None), rate_hz: float | None = None,
              athlete: str = "", history_db=None, theme: str = "outdoor") -> int:
    """Show the set-up screen; START opens the dashboard on ``make_engine(choice)`` until it is closed.

    Returns 1 when the session's engine failed, else 0 (also when the screen was closed without
    starting). ``history_db`` (None: the data directory's, False: none) gives the roster.
    """
    app = application()
    setup = SensorSetup(backends, rate_hz)
    window = SetupWindow(setup, make_engine, roster(history_db), athlete=athlete, theme=theme)
    screen = QtGui.QGuiApplication.primaryScreen().availableGeometry()
    window.resize(min(1280, screen.width()), min(800, screen.height()))
    previous = signal.signal(signal.SIGINT, lambda *_: (window.dashboard or window).close())  # Ctrl-C closes it
    try:
        window.show()
        window.scan()
        app.exec()
    finally:
        signal.signal(signal.SIGINT, previous)
        setup.close()
        engine, dashboard = window.engine, window.dashboard
        if dashboard is not None:
            dispose(dashboard)
        dispose(window)
        if engine is not None:
            engine.stop(timeout_s=None)  # the recordings close and their tables are written
    return 1 if engine is not None and engine.failure is not None else 0
