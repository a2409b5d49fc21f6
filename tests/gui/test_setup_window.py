"""The set-up screen, offscreen (pytest-qt) on emulated sensors through the real bleak path: scan →
legs assigned the wrong way round → the knee-lift check catches it → swap → athlete → start → the
dashboard streams both legs, on the engine ``gaitmon live`` builds.

Screenshots go to pytest's temporary folder, or to ``$GAITMON_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


import pytest  # noqa: E402

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from pyqtgraph.Qt import QtCore  # noqa: E402

from gaitmon import cli  # noqa: E402
from gaitmon.dashboard.setup_window import SetupWindow  # noqa: E402
from gaitmon.dashboard.window import application, dispose  # noqa: E402
from gaitmon.engine.session_setup import SensorSetup  # noqa: E402
from gaitmon.sources.virtual import emulated_pair  # noqa: E402

RATE_HZ = 200.0
Key = QtCore.Qt.Key

@pytest.fixture
def standing_pair():
    """Two emulated DIY boards on a simulated athlete who stands for the first minute (set-up time)."""
    return emulated_pair("gaitmon_diy", "balanced", seed=0, rate_hz=RATE_HZ, initial_standing_s=60.0, n_reps=1)


def test_setup_screen_scan_check_swap_athlete_start(qtbot, standing_pair, screenshot):
    pair = standing_pair
    left_address, right_address = pair.addresses["left"], pair.addresses["right"]
    args = cli.build_parser().parse_args(["live", "--rate", str(RATE_HZ), "--no-record", "--no-history"])
    chosen = []

    def make_engine(choice):
        chosen.append(choice)
        return cli._live_engine(args, choice.sensors, choice.athlete, choice.backends)

    application()
    setup = SensorSetup(pair.backends, rate_hz=RATE_HZ)
    window = SetupWindow(setup, make_engine, athletes=["Ann", "Bea"], scan_s=1.0)
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    try:
        # Scan: both sensors listed with family, name, battery (read over a short connection) and signal.
        window.scan()
        qtbot.waitUntil(lambda: window._scan.progress.phase == "done" and len(window.rows) == 2, timeout=15_000)
        row = window.rows[left_address]
        assert row.name.text() == "gaitmon-L"
        assert row.family.text().startswith("gaitmon DIY")
        assert row.battery.text() == "battery 87 %"
        assert row.signal.text().endswith("-55 dBm")
        assert window.rows[right_address].signal.text().endswith("-62 dBm")
        assert window.next_action() == "assign" and not window.start_button.isEnabled()

        # The coach taps RIGHT on the sensor that is really on the left shank; Enter puts the other
        # one on the free (left) leg.
        qtbot.mouseClick(row.buttons["right"], QtCore.Qt.MouseButton.LeftButton)
        assert window.selected == right_address
        qtbot.keyClick(window, Key.Key_Return)
        assert window.legs == {"right": left_address, "left": right_address}
        assert window.next_action() == "check"

        # Enter: the check streams both; once asked, the emulated athlete lifts the LEFT knee.
        qtbot.keyClick(window, Key.Key_Return)
        qtbot.waitUntil(lambda: "LIFT YOUR LEFT KNEE" in window.prompt.text(), timeout=15_000)
        assert window._check.progress.phase == "lift"
        screenshot(window, "setup_lift")
        pair.lift_knee("left")
        qtbot.waitUntil(lambda: window.last_check is not None, timeout=15_000)
        check = window.last_check
        assert check.swapped and check.lifted == "right", check.text
        # The lifting shank turns ~3.5 rad/s; the standing one only sways (the simulator's fidget < 1.5 rad/s).
        assert check.excursions["right"] > 3.0 and check.excursions["left"] < 1.6
        assert "other way round" in window.prompt.text()
        assert window.next_action() == "swap" and not window.start_button.isEnabled()
        screenshot(window, "setup_swapped")

        # S swaps: the legs are now the ones the gyro found; START is enabled.
        qtbot.keyClick(window, Key.Key_S)
        assert window.legs == {"left": left_address, "right": right_address}
        assert window.confirmed and window.start_button.isEnabled() and window.next_action() == "start"

        # The clicker's Page Down chooses from the roster once the legs are confirmed.
        qtbot.keyClick(window, Key.Key_PageDown)
        qtbot.keyClick(window, Key.Key_PageDown)
        assert window.athlete() == "Bea"
        screenshot(window, "setup_confirmed")

        # Enter starts: the dashboard opens on gaitmon live's engine, streaming both legs.
        qtbot.keyClick(window, Key.Key_Return)
        assert chosen and chosen[0].sensors == {"left": left_address, "right": right_address}
        assert chosen[0].athlete == "Bea"
        dashboard, engine = window.dashboard, window.engine
        assert dashboard is not None and engine is not None and not window.isVisible()
        assert engine.athletes == ("Bea",)

        def streaming() -> bool:
            health = {s.role: s for s in engine.snapshot("Bea").health}
            return all(role in health and health[role].state == "streaming" and health[role].samples > RATE_HZ
                       for role in ("left", "right"))

        qtbot.waitUntil(streaming, timeout=20_000)
        health = {s.role: s for s in engine.snapshot("Bea").health}
        assert health["left"].address == left_address and health["right"].address == right_address
        assert dashboard.frames > 0 and dashboard.last.athlete == "Bea"
        screenshot(dashboard, "setup_started_dashboard")
    finally:
        setup.close()
        if window.dashboard is not None:
            dispose(window.dashboard)
        if window.engine is not None:
            window.engine.stop(timeout_s=None)


def test_typing_a_new_athlete_name_does_not_trigger_the_keys(qtbot, standing_pair):
    """Letters the window binds (F full screen, S swap) go into the athlete's name while it is typed;
    without sensors nothing can be started, and the screen says to scan."""
    application()
    setup = SensorSetup(standing_pair.backends, rate_hz=RATE_HZ)
    started = []
    window = SetupWindow(setup, started.append, athletes=["Ann"])
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.next_action() == "scan" and "SCAN finds the sensors" in window.prompt.text()
        qtbot.keyClick(window, Key.Key_Return)  # Enter: the next step is a scan
        assert window._scan is not None
        edit = window.athlete_box.lineEdit()
        qtbot.mouseClick(edit, QtCore.Qt.MouseButton.LeftButton)
        qtbot.keyClicks(edit, "Sofia Fors")
        assert window.athlete() == "Sofia Fors"
        assert not window.isFullScreen() and window.legs == {}
        qtbot.keyClick(window, Key.Key_Return)
        assert not started  # no legs, no check: START does nothing
    finally:
        setup.close()
