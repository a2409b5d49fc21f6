"""Link-level faults a real radio produces, on emulated sensors through bleak (virtual clock).

A sensor that stops streaming while connected, a garbled reply during set-up, sensors that share a
name, one sensor given for both legs, no Bluetooth at all, and emulated sessions longer than the
simulation: each is noticed, survived and shown with its reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time

import pytest
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDBusError

from gaitmon.cli import main
from gaitmon.engine.acquisition import run_live, run_scan
from gaitmon.errors import InputError
from gaitmon.session.history import History
from gaitmon.sources import ble
from gaitmon.sources.ble import acquire, explain
from gaitmon.sources.virtual import DEVICES, Faults, VirtualAir, emulated_pair
from gaitmon.sources.virtual.clock import run_virtual
from gaitmon.stream.live import LiveSession

FAMILIES = sorted(DEVICES)
STALL_AT_S = 8.0


class Watched(LiveSession):
    """A live session that also keeps every state change: (sim time, role, state, detail)."""

    def __init__(self, air: VirtualAir):
        super().__init__("link faults")
        self.air = air
        self.states: list[tuple[float, str, str, str]] = []

    def on_state(self, role, state, detail="", address="", battery_pct=None, device=None):
        self.states.append((self.air.sim_time(), role, state, detail))
        super().on_state(role, state, detail, address=address, battery_pct=battery_pct, device=device)

    def of(self, role: str) -> list[tuple[float, str, str]]:
        return [(t, state, detail) for t, r, state, detail in self.states if r == role]


def stream(pair, duration_s: float, sensors: dict | None = None, air: VirtualAir | None = None) -> Watched:
    air = air or pair.air
    live = Watched(air)
    run_virtual(acquire(sensors or pair.addresses, live, None, duration_s=duration_s,
                        backends=(air.scanner_backend, air.client_backend)))
    return live


def stalled_pair(family: str, kind: str):
    return emulated_pair(family, "balanced", seed=0, n_reps=1, recovery_s=4.0,
                         faults={"left": Faults(stall_at_s=STALL_AT_S, stall_kind=kind)})


def resumed_after(live: Watched, role: str, origin: float) -> float:
    """Sim time of the first sample after the stall's gap."""
    gap = next(g for g in live.gaps if g.sensor == role and g.cause == "stalled")
    return gap.t_end - origin


# -- 1. a sensor that stops streaming while connected ----------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_a_silent_stream_is_called_stalled_marked_as_a_gap_and_restarted(family):
    pair = stalled_pair(family, "silent")
    live = stream(pair, 16.0)
    origin = pair.air.origin
    left = live.of("left")
    stalled = [(t, detail) for t, state, detail in left if state == "stalled"]
    assert len(stalled) == 1 and " data for " in stalled[0][1] and "restarting the stream" in stalled[0][1]
    # Noticed within the watchdog's half second (plus one look), not sooner than the silence allows.
    assert STALL_AT_S + ble.STALL_MIN_S <= stalled[0][0] <= STALL_AT_S + ble.STALL_MIN_S + 0.2, stalled
    after = [(state, detail) for t, state, detail in left if t > stalled[0][0]]
    assert after[0][0] == "streaming" and "restarted after a stall" in after[0][1]
    gaps = [g for g in live.gaps if g.sensor == "left" and g.cause == "stalled"]
    assert len(gaps) == 1 and gaps[0].t_start - origin <= STALL_AT_S
    assert resumed_after(live, "left", origin) - STALL_AT_S <= 1.0  # restarted in place: no reconnection
    health = live.health()
    assert health["left"].stalls == 1 and health["right"].stalls == 0
    assert not [g for g in live.gaps if g.sensor == "right"]
    late = [e for e in live.events if e.side == "left" and e.kind == "IC" and e.t - origin > STALL_AT_S + 2.0]
    assert late  # steps go on after the restart


def test_polar_measurement_stopped_notification_is_heard_at_once():
    pair = stalled_pair("polar_pmd", "announced")
    live = stream(pair, 14.0)
    stalled = [(t, detail) for t, state, detail in live.of("left") if state == "stalled"]
    assert len(stalled) == 1
    t, detail = stalled[0]
    assert "the sensor stopped its measurement (ACC, GYRO)" in detail
    assert t - STALL_AT_S < 0.05  # the notification, not the watchdog's half second
    assert resumed_after(live, "left", pair.air.origin) - STALL_AT_S <= 0.3


@pytest.mark.parametrize("family", ["gaitmon_diy", "witmotion"])
def test_a_stream_that_a_restart_does_not_revive_is_reconnected(family):
    pair = stalled_pair(family, "stuck")
    live = stream(pair, 18.0)
    states = [state for _, state, _ in live.of("left")]
    first_stall = states.index("stalled")
    assert states[first_stall:first_stall + 6] == ["stalled", "streaming", "stalled", "reconnecting", "searching",
                                                  "connecting"], states
    assert states[-2:] == ["streaming", "stopped"]
    assert "restarting it did not help" in next(d for _, s, d in live.of("left") if s == "reconnecting")
    # Half a second to notice, the restarted stream's FIRST_PACKET_S, then one reconnection.
    resumed = resumed_after(live, "left", pair.air.origin) - STALL_AT_S
    assert resumed <= ble.STALL_MIN_S + 0.1 + ble.FIRST_PACKET_S + 1.0, resumed
    assert [g.cause for g in live.gaps if g.sensor == "left"] == ["stalled"]


def test_stalled_is_shown_in_the_terminal_and_health_csv(tmp_path):
    pair = stalled_pair("gaitmon_diy", "silent")
    lines: list[str] = []
    assert run_live({"left": "L", "right": "R"}, tmp_path / "s", emulated=pair, duration_s=14.0, virtual_clock=True,
                    add_to_history=False, print_fn=lines.append) == 0
    said = [line for line in lines if "left: stalled" in line]
    # noticed within one watchdog period after STALL_MIN_S (where in it depends on the link's set-up time)
    assert len(said) == 1 and re.search(r"no data for 0\.[56] s", said[0]) and "restarting the stream" in said[0], lines
    assert any("left: streaming — gaitmon DIY board at 1000 Hz; restarted after a stall" in line for line in lines)
    header, *rows = (tmp_path / "s" / "health.csv").read_text().splitlines()
    columns = header.split(",")
    left = dict(zip(columns, next(r for r in rows if r.startswith("left")).split(",")))
    assert left["stalls"] == "1"
    assert "stalled" in (tmp_path / "s" / "gaps.csv").read_text()


def test_a_long_fault_free_run_never_stalls():
    """The watchdog must not cry wolf: 1 % losses and 20 ms jitter for a minute, no stall."""
    faults = {side: Faults(drop=0.01, duplicate=0.01, reorder=0.01, jitter_s=0.02, seed=i)
              for i, side in enumerate(("left", "right"))}
    for family in FAMILIES:
        pair = emulated_pair(family, "balanced", seed=1, n_reps=1, recovery_s=4.0, faults=faults)
        live = stream(pair, 60.0)
        assert {s.stalls for s in live.health().values()} == {0}, family
        assert "stalled" not in {state for _, _, state, _ in live.states}, family


# -- 2. a garbled reply during set-up ---------------------------------------------------------------------
@pytest.mark.parametrize("family", ["gaitmon_diy", "polar_pmd", "movesense"])
def test_a_garbled_setup_reply_is_retried_and_the_other_leg_streams_on(family):
    pair = emulated_pair(family, "balanced", seed=0, n_reps=1, recovery_s=4.0, faults={"left": Faults(bad_replies=1)})
    live = stream(pair, 12.0)  # raised MalformedPacket (IndexError for Movesense) before
    assert pair.devices["left"].log.garbled_replies == 1
    failed = [detail for _, state, detail in live.of("left") if state == "setup failed"]
    assert len(failed) == 1 and "garbled reply from the sensor" in failed[0] and "retrying" in failed[0]
    health = live.health()
    assert health["left"].state == health["right"].state == "stopped"
    assert health["left"].samples > 0.9 * health["right"].samples  # retried within a second


def test_a_garbled_setup_reply_still_gives_tables_report_and_history(tmp_path):
    pair = emulated_pair("polar_pmd", "swing_plateau", seed=1, faults={"left": Faults(bad_replies=1)})
    db = tmp_path / "history.sqlite"
    lines: list[str] = []
    assert run_live({"left": "L", "right": "R"}, tmp_path / "s", athlete="Ana", emulated=pair, duration_s=20.0,
                    virtual_clock=True, history_db=db, print_fn=lines.append) == 0
    assert any("left: setup failed — garbled reply" in line for line in lines), lines
    for name in ("events.csv", "steps.csv", "health.csv", "report.html"):
        assert (tmp_path / "s" / name).is_file()
    with History(db) as history:
        assert len(history.sessions("Ana")) == 1


def test_movesense_router_takes_a_one_byte_notification_as_a_garbled_reply():
    from gaitmon.sensors.movesense.family import _is_result
    from gaitmon.sensors.movesense.protocol import MovesenseDecoder
    from gaitmon.sensors import MalformedPacket

    assert _is_result(b"\x01")  # a result cut short goes to the waiting command ...
    with pytest.raises(MalformedPacket):  # ... whose decoding says what is wrong
        MovesenseDecoder(416.0, client_ref=1).decode(b"\x01")


# -- 3. look-alike names --------------------------------------------------------------------------------
def twins():
    """Two sensors advertising "gaitmon-L": the weaker one first in the air (it advertises first)."""
    pair = emulated_pair("gaitmon_diy", "balanced", seed=0, n_reps=1, recovery_s=4.0)
    twin = emulated_pair("gaitmon_diy", "balanced", seed=1, n_reps=1, recovery_s=4.0, sides=("left",)).devices["left"]
    twin.address, twin.rssi = "C0:FF:EE:00:00:03", -80
    air = VirtualAir([twin, *pair.devices.values()])
    return pair, twin, air


def test_a_name_resolves_to_the_strongest_sensor_with_a_warning_and_reconnects_only_to_it():
    pair, twin, air = twins()
    chosen = pair.devices["left"]
    chosen.faults = Faults(disconnect_at_s=6.0, away_s=1.5)  # meanwhile its twin advertises
    live = stream(pair, 14.0, sensors={"left": "gaitmon-L", "right": "gaitmon-R"}, air=air)
    assert live.health()["left"].address == chosen.address
    assert twin.first_sent is None  # never streamed: not at the first connection, not after the drop
    assert live.health()["left"].reconnects == 1
    streaming = [d for _, s, d in live.of("left") if s == "streaming"]
    assert len(streaming) == 2
    for detail in streaming:
        assert "warning: 2 sensors advertise as 'gaitmon-L'" in detail and "C0:FF:EE:00:00:03 (-80 dBm)" in detail


def test_one_sensor_for_both_legs_is_refused_in_one_line(capsys):
    assert main(["live", "--left", "gaitmon-L", "--right", "GAITMON-L", "--headless", "--duration", "1",
                 "--no-history"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["gaitmon: error: gaitmon live: 'GAITMON-L' is given for both left and right: "
                   "a sensor streams to one leg only"]


def test_a_name_that_is_another_legs_sensor_fails_that_leg_only():
    pair = emulated_pair("gaitmon_diy", "balanced", seed=0, n_reps=1, recovery_s=4.0)
    live = stream(pair, 6.0, sensors={"left": "gaitmon-L", "right": pair.devices["left"].address})
    health = live.health()
    assert health["left"].state == "failed" and "already the right sensor" in health["left"].detail
    assert health["right"].samples > 1000


# -- 4. no Bluetooth --------------------------------------------------------------------------------------
@pytest.mark.parametrize("error, state, words", [
    (BleakBluetoothNotAvailableError("x", BleakBluetoothNotAvailableReason.NO_BLUETOOTH), "no bluetooth",
     "no Bluetooth adapter"),
    (BleakBluetoothNotAvailableError("x", BleakBluetoothNotAvailableReason.POWERED_OFF), "no bluetooth",
     "adapter is off"),
    (BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", ["The name org.bluez was not provided"]),
     "no bluetooth", "BlueZ is not running"),
    (FileNotFoundError(2, "No such file or directory"), "no bluetooth", "no D-Bus system bus"),
    (ble.SensorNotFound("L not seen"), "not found", "L not seen"),
])
def test_radio_failures_are_explained(error, state, words):
    said_state, reason = explain(error)
    assert said_state == state and words in reason


def test_live_with_the_adapter_off_says_so_in_the_terminal_and_the_sensor_table(tmp_path):
    from gaitmon.dashboard.widgets.tables import health_cells

    pair = emulated_pair("gaitmon_diy", "balanced", seed=0, n_reps=1, recovery_s=4.0)
    pair.air.unavailable = BleakBluetoothNotAvailableReason.POWERED_OFF
    lines: list[str] = []
    run_live({"left": "L", "right": "R"}, tmp_path / "s", emulated=pair, duration_s=3.0, virtual_clock=True,
             add_to_history=False, print_fn=lines.append)
    said = [line for line in lines if "left: no bluetooth" in line]
    assert len(said) == 1 and "the Bluetooth adapter is off" in said[0], lines  # said once, not every retry
    live = LiveSession()
    live.on_state("left", "no bluetooth", explain(BleakBluetoothNotAvailableError(
        "x", BleakBluetoothNotAvailableReason.POWERED_OFF))[1])
    assert health_cells(live.health()["left"])[1].startswith("no bluetooth (the Bluetooth adapter is off")


def test_a_sensor_that_never_appears_is_reported_not_found():
    pair = emulated_pair("gaitmon_diy", "balanced", seed=0, n_reps=1, recovery_s=4.0, sides=("right",))
    live = stream(pair, 4.0, sensors={"left": "C0:FF:EE:00:00:09", "right": pair.devices["right"].address})
    details = [d for _, s, d in live.of("left") if s == "not found"]
    assert details and "C0:FF:EE:00:00:09 not seen in 1 s of scanning" in details[0]
    assert live.health()["right"].samples > 1000


@contextlib.contextmanager
def private_bus(folder, policy: str):
    """A private D-Bus 'system' bus (address yielded) on which nobody provides org.bluez."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon not installed")
    socket = folder / "bus.sock"
    config = folder / "bus.conf"
    config.write_text(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path={socket}</listen><auth>EXTERNAL</auth>
<policy context="default">{policy}</policy></busconfig>""")
    daemon = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10.0
    while not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"unix:path={socket}"
    finally:
        daemon.terminate()
        daemon.wait(10)


#: Everything allowed: a call to org.bluez is answered "ServiceUnknown" (BlueZ not running).
OPEN_POLICY = '<allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/>'
#: No replies get through: the bus never answers (a hung bluetoothd looks the same to bleak).
MUTE_POLICY = '<allow send_destination="*"/><allow own="*"/>'


def test_scan_with_the_real_bluez_backend_says_what_is_missing(tmp_path, monkeypatch):
    """bleak's unchanged BlueZ backend: no system bus at all, a bus without BlueZ, a bus that never answers."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path / 'no-such-socket'}")
    with pytest.raises(InputError, match="no Bluetooth: no D-Bus system bus"):
        run_scan(0.2)
    (tmp_path / "open").mkdir()
    with private_bus(tmp_path / "open", OPEN_POLICY) as address:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        with pytest.raises(InputError, match="no Bluetooth: BlueZ is not running"):
            run_scan(0.2)
    (tmp_path / "mute").mkdir()
    monkeypatch.setattr(ble, "SCAN_START_TIMEOUT_S", 0.5)
    with private_bus(tmp_path / "mute", MUTE_POLICY) as address:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        with pytest.raises(InputError, match="Bluetooth did not answer a request to scan in 0.5 s"):
            run_scan(0.2)


# -- 5. emulated sessions longer than the simulation ---------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_an_emulated_sensor_loops_its_session_with_continuous_device_time(family):
    pair = emulated_pair(family, "balanced", seed=0, n_reps=1, recovery_s=2.0, drift_ppm=(100.0, -100.0))
    lap = pair.devices["left"].loop_period_s
    live = stream(pair, 2.5 * lap)
    rate = pair.devices["left"].nominal_rate_hz
    health = live.health()
    for side in ("left", "right"):
        assert health[side].stalls == 0 and health[side].reconnects == 0 and health[side].gaps == 0, (family, side)
        assert health[side].samples >= (2.5 * lap - 1.5) * rate, (family, side, health[side].samples)
    # Contacts in the third lap as in the first.
    origin = pair.air.origin
    laps = [sum(1 for e in live.events if e.kind == "IC" and k * lap <= e.t - origin < (k + 0.5) * lap)
            for k in (0, 2)]
    assert laps[0] > 5 and abs(laps[0] - laps[1]) <= 2, laps


def test_cli_emulated_live_runs_past_the_end_of_the_simulated_session(tmp_path, capsys):
    assert main(["live", "--emulated", "gaitmon_diy", "--virtual-clock", "--duration", "150", "--headless",
                 "--no-history", "--out", str(tmp_path / "s")]) == 0
    status = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[  150.0 s]")]
    assert status and "left: 1000 Hz" in status[0] and "right: 1000 Hz" in status[0]  # streaming: no state named
    header, *rows = (tmp_path / "s" / "health.csv").read_text().splitlines()
    columns = header.split(",")
    for row in rows:
        values = dict(zip(columns, row.split(",")))
        assert values["stalls"] == "0" and values["gaps"] == "0" and int(values["samples"]) > 140_000


# -- the stall over bleak's real BlueZ backend (the fake bluetoothd of tests/support) -------------------------
@pytest.mark.parametrize("family, kind", [("gaitmon_diy", "silent"), ("polar_pmd", "announced")])
def test_a_stall_is_restarted_over_the_real_bluez_backend(family, kind, tmp_path):
    """StopNotify, StartNotify and the set-up commands of the restart go over real D-Bus; Polar's
    measurement-stopped arrives as a PropertiesChanged of the control point's Value."""
    import sys

    from tests.conftest import REPO
    from tests.support.fake_bluez import FakeBluezThread, dbus_daemon, private_bus as bluez_bus

    if dbus_daemon() is None:
        pytest.skip("dbus-daemon not installed")
    pair = emulated_pair(family, "balanced", seed=2, n_reps=1, recovery_s=1.0, initial_standing_s=0.5,
                         faults={"left": Faults(stall_at_s=3.0, stall_kind=kind)})
    out = tmp_path / "session"
    (tmp_path / "bus").mkdir()
    with bluez_bus(tmp_path / "bus") as address, FakeBluezThread(address, list(pair.devices.values())):
        result = subprocess.run(
            [sys.executable, "-m", "gaitmon", "live", "--headless", "--left", pair.devices["left"].address,
             "--right", pair.devices["right"].address, "--duration", "6", "--out", str(out), "--no-history"],
            capture_output=True, text=True, cwd=REPO, env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address),
            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    said = [line for line in result.stdout.splitlines() if "left: stalled" in line]
    reason = "the sensor stopped its measurement (ACC, GYRO)" if kind == "announced" else " data for "
    assert len(said) == 1 and reason in said[0], result.stdout
    assert "left: streaming — " in result.stdout.split(said[0])[1]  # restarted, and streaming again
    header, *rows = (out / "health.csv").read_text().splitlines()
    health = {row.split(",")[0]: dict(zip(header.split(","), row.split(","))) for row in rows}
    assert health["left"]["stalls"] == "1" and health["right"]["stalls"] == "0"
    assert int(health["left"]["samples"]) > 0.7 * int(health["right"]["samples"])
    gaps = (out / "gaps.csv").read_text()
    assert gaps.count("stalled") == 1
