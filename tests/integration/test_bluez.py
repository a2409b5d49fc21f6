"""The real BlueZ path: ``gaitmon scan`` and ``gaitmon live --headless`` on bleak's own BlueZ backend.

A private ``dbus-daemon`` stands in for the system bus (``DBUS_SYSTEM_BUS_ADDRESS``), and a fake
``bluetoothd`` on it (``tests/support/fake_bluez.py``) serves the emulated sensors of
``gaitmon/sources/virtual/``: every advertisement, GATT call and notification — with the faults
the emulator injects — crosses real D-Bus messages into the unchanged bleak backend that runs on
a Linux laptop. gaitmon runs as a user runs it, in its own process on the real clock.

Per family, one session: the left sensor drops mid-rep and comes back; the right one loses,
duplicates, swaps and corrupts notifications with 20 ms of jitter until a fault-free tail (so every
loss is revealed by a later packet). The counts gaitmon writes must equal what the fake sent.
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from gaitmon.events import GaitEvent
from gaitmon.sources.virtual import DEVICES, Faults, VirtualAir, emulated_pair
from gaitmon.stream.timing import MAX_FILL_S
from gaitmon.validation.evaluation import evaluate
from tests.conftest import REPO
from tests.support.fake_bluez import FakeBluezThread, dbus_daemon, private_bus

FAMILIES = sorted(DEVICES)
#: Families whose packets carry device time: their loss counts are exact.
TIMED = [f for f in FAMILIES if f != "witmotion"]

#: The session (simulation seconds): the rep starts at 3.1 s; the left sensor is away from
#: DROP_S for AWAY_S; the right one's faults stop at QUIET_S; gaitmon stops after DURATION_S.
DROP_S, AWAY_S, QUIET_S, DURATION_S = 5.0, 0.8, 7.5, 9.0
RIGHT_FAULTS = Faults(drop=0.03, duplicate=0.03, reorder=0.03, corrupt=0.03, jitter_s=0.020, seed=7)

pytestmark = pytest.mark.skipif(
    dbus_daemon() is None, reason="dbus-daemon not installed (Debian package 'dbus'): the BlueZ path needs a private D-Bus")


def gaitmon(bus_address: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus_address)
    return subprocess.run([sys.executable, "-m", "gaitmon", *args], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=120)


@pytest.fixture(scope="module")
def system_bus(tmp_path_factory):
    with private_bus(tmp_path_factory.mktemp("dbus")) as address:
        yield address


def record_frames(device) -> dict:
    """Every data frame ``device`` generates, by (characteristic, bytes): what an intact notification carries."""
    frames = {}
    generate = device.frames

    def recording(first_sample):
        for frame in generate(first_sample):
            frames[(frame.char_uuid, frame.data)] = frame
            yield frame

    device.frames = recording
    return frames


@dataclasses.dataclass
class Sent:
    """What the fake sent over D-Bus for one sensor, as gaitmon must count it."""

    packets: int  # intact data notifications, copies included
    duplicates: int
    samples: int  # samples handed on: every frame of their instant arrived intact, or (see below) filled
    interpolated: int  # samples whose frame of one stream (Polar: acc or gyro) alone was lost, in a short hole
    lost_samples: int  # samples between the first and last of those handed on that are not
    lost_packets: int  # frames sent inside that span that never arrived intact
    first_sim_s: float
    last_sim_s: float


def sent_counts(device, bluez_device, frames: dict) -> Sent:
    intact = [frames[key] for key in bluez_device.sent if key in frames]
    distinct = {(f.char_uuid, f.data) for f in intact}
    per_instant: dict[int, list] = {}  # an instant's frames, one per stream in send order (Polar: acc, gyro)
    for frame in frames.values():
        per_instant.setdefault(frame.first_sample, []).append(frame)
    instants = sorted(per_instant)
    n_streams = max(len(group) for group in per_instant.values())
    # (the link can drop between an instant's frames: the later ones were never generated)
    arrived = [[first for first in instants if len(per_instant[first]) > k
                and (per_instant[first][k].char_uuid, per_instant[first][k].data) in distinct] for k in range(n_streams)]
    max_hole = int(MAX_FILL_S * device.nominal_rate_hz)

    def usable(first: int, k: int) -> bool:
        """Stream k's frame of this instant arrived, or lies in a hole short enough to be filled."""
        at = bisect.bisect_left(arrived[k], first)
        if at < len(arrived[k]) and arrived[k][at] == first:
            return True
        if at == 0 or at == len(arrived[k]):
            return False
        before = arrived[k][at - 1]
        return arrived[k][at] - (before + per_instant[before][k].n_samples - 1) <= max_hole

    due = [first for first in instants if all(usable(first, k) for k in range(n_streams))
           and any(first in arrived[k] for k in range(n_streams))]
    n = {first: per_instant[first][0].n_samples for first in due}
    filled = [first for first in due if not all(first in arrived[k] for k in range(n_streams))]
    span = range(due[0], due[-1] + 1)
    missing = [per_instant[first] for first in span if first in per_instant and
               not all(first in arrived[k] for k in range(n_streams))]
    # (a frame generated but never sent — the link was down — is not a lost packet)
    sent = {frame.first_sample for frame in intact} | {first for _, _, first, _ in device.log.losses}
    samples = sum(n.values())
    return Sent(packets=len(intact), duplicates=len(intact) - len(distinct), samples=samples,
                interpolated=sum(n[first] for first in filled),
                lost_samples=due[-1] + n[due[-1]] - due[0] - samples,
                lost_packets=sum(sum((f.char_uuid, f.data) not in distinct for f in group)
                                 for group in missing if group[0].first_sample in sent),
                first_sim_s=float(device.t[due[0]]), last_sim_s=float(device.t[due[-1]]))


@dataclasses.dataclass
class BlueZRun:
    family: str
    pair: object
    sent: dict[str, Sent]
    health: dict[str, dict]
    gaps: list[dict]
    events: list[GaitEvent]  # in simulation time
    result: subprocess.CompletedProcess
    wall_s: float
    meta: dict  # session.json


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module", params=FAMILIES)
def bluez_run(request, system_bus, tmp_path_factory) -> BlueZRun:
    family = request.param
    pair = emulated_pair(family, "balanced", seed=2, n_reps=1, recovery_s=1.0, initial_standing_s=0.5,
                         drift_ppm=(200.0, -200.0),
                         faults={"left": Faults(disconnect_at_s=DROP_S, away_s=AWAY_S),
                                 "right": RIGHT_FAULTS})
    left, right = pair.devices["left"], pair.devices["right"]
    frames = {side: record_frames(device) for side, device in pair.devices.items()}
    out = tmp_path_factory.mktemp(f"bluez-{family}") / "session"
    started = time.monotonic()
    with FakeBluezThread(system_bus, [left, right]) as bluez:
        bluez.at(QUIET_S, lambda: setattr(right, "faults", Faults()))
        # The left leg by address, the right one by its advertised name.
        result = gaitmon(system_bus, "live", "--headless", "--left", left.address, "--right", right.name,
                         "--duration", str(DURATION_S), "--out", str(out), "--no-history")
    wall_s = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    sent = {side: sent_counts(pair.devices[side], bluez.devices[pair.devices[side].address.upper()], frames[side])
            for side in pair.devices}
    # Session time → simulation time, through the wall clock both processes share.
    meta = json.loads((out / "session.json").read_text())
    started_at = datetime.fromisoformat(meta["started_at"]).timestamp()
    offset = started_at - bluez.wall_time(pair.air.origin)
    events = [GaitEvent(float(e["t_s"]) + offset, e["side"], e["event"], float(e["value"]))
              for e in read_csv(out / "events.csv")]
    gaps = read_csv(out / "gaps.csv")
    for gap in gaps:
        gap["t_start"], gap["t_end"] = float(gap["t_start"]) + offset, float(gap["t_end"]) + offset
    health = {row["role"]: row for row in read_csv(out / "health.csv")}
    return BlueZRun(family, pair, sent, health, gaps, events, result, wall_s, meta)


def test_scan_lists_every_family_over_dbus(system_bus):
    devices = [emulated_pair(family, "balanced", seed=0, n_reps=1, recovery_s=0.0, sides=("left",)).devices["left"]
               for family in FAMILIES]
    for i, device in enumerate(devices):
        device.address = f"C0:FF:EE:00:01:{i:02X}"
    VirtualAir(devices)
    with FakeBluezThread(system_bus, devices):
        result = gaitmon(system_bus, "scan", "--timeout", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert sorted(row[0] for row in rows) == FAMILIES
    for device in devices:
        line = next(line for line in result.stdout.splitlines() if device.address in line)
        assert line.startswith(device.family) and device.name in line and line.endswith("-55 dBm")


def test_every_notification_sent_is_counted(bluez_run):
    """Packets, samples, duplicates and malformed packets equal what crossed D-Bus; for the families
    with device time, lost samples (the left leg's include its disconnection) and packets too."""
    run = bluez_run
    for side, device in run.pair.devices.items():
        sent, row, log = run.sent[side], run.health[side], device.log
        got = {key: int(row[key]) for key in ("packets", "samples", "duplicates", "malformed", "lost_samples",
                                              "lost_packets", "late", "interpolated_samples")}
        if run.family in TIMED:  # a repeated corrupted packet is malformed twice
            expected = {"packets": sent.packets, "duplicates": sent.duplicates, "malformed": log.corrupted_arrived}
            if side == "right":  # (across the left leg's disconnection, packets were never sent)
                expected["lost_packets"] = sent.lost_packets
            expected.update(samples=sent.samples, lost_samples=sent.lost_samples,
                            interpolated_samples=sent.interpolated)
        else:  # identical bytes are dropped before counting: a corrupted copy is malformed once, then a duplicate
            expected = {"packets": sent.packets - sent.duplicates,
                        "duplicates": sent.duplicates + log.corrupted_duplicated,
                        "malformed": log.corrupted_arrived - log.corrupted_duplicated}
            expected["samples"] = sent.samples
        expected["late"] = 0
        assert {key: got[key] for key in expected} == expected, (run.family, side)
    right = run.pair.devices["right"].log
    assert min(right.dropped, right.duplicated, right.reordered, right.corrupted) > 0, right


def test_the_device_information_is_read_over_dbus(bluez_run):
    """BlueZ lets clients read the Device Information Service (see tests/support/fake_bluez.py): what
    each emulated sensor has reaches session.json, and a sensor without it (WitMotion) tells nothing."""
    run = bluez_run
    for side, device in run.pair.devices.items():
        told = {name: value.decode() for name, value in device.device_information.items()}
        sensor = run.meta["sensors"][side]
        assert {name: sensor[name] for name in told} == told, run.family
        assert all(sensor[name] == "" for name in ("manufacturer", "model", "serial_number", "firmware",
                                                   "hardware", "software") if name not in told)


def test_the_dropped_sensor_reconnects_within_two_seconds(bluez_run):
    run = bluez_run
    assert [int(run.health[side]["reconnects"]) for side in ("left", "right")] == [1, 0], run.family
    assert {row["state"] for row in run.health.values()} == {"stopped"}
    disconnections = [g for g in run.gaps if g["cause"] == "disconnected"]
    assert len(disconnections) == 1 and disconnections[0]["sensor"] == "left", run.gaps
    gap = disconnections[0]
    back = DROP_S + AWAY_S
    rate = run.pair.devices["left"].nominal_rate_hz
    assert gap["t_start"] < DROP_S + 0.05, (run.family, gap)  # the last sample before the drop (arrival time)
    assert back < gap["t_end"] <= back + 2.0, (run.family, gap)  # streaming again within 2 s
    assert int(gap["lost_samples"]) >= AWAY_S * rate
    assert all(g["cause"] == "lost packets" for g in run.gaps if g["sensor"] == "right")


def test_events_match_the_simulated_truth(bluez_run):
    """Every toe-off and contact of the streamed stretch is found, none invented, within 50 ms (all
    families, WitMotion's arrival-timed samples included) — except on the left leg around its disconnection."""
    run = bluez_run

    def expected(e, side):
        sent = run.sent[side]
        # The detector settles in the first second; an event is confirmed by the samples after it.
        begin, end = max(3.0, sent.first_sim_s + 1.0), sent.last_sim_s - 0.5
        if not (e.side == side and e.kind in ("TO", "IC") and begin < e.t < end):
            return False
        gap = next(g for g in run.gaps if g["cause"] == "disconnected")
        return side != "left" or not DROP_S - 0.5 < e.t < gap["t_end"] + 1.0  # the same around the disconnection

    def kept(events, others, side):
        """The expected events, and those within 50 ms of an expected one of the other list: a pair
        straddling the edge of a margin (its edge moves with the real clock) is a match."""
        anchors = [o for o in others if expected(o, side)]
        return [e for e in events if e.side == side and e.kind in ("TO", "IC") and (expected(e, side) or any(
            o.kind == e.kind and abs(o.t - e.t) <= 0.05 for o in anchors))]

    for side in ("left", "right"):
        truth, detected = kept(run.pair.session.events, run.events, side), kept(run.events, run.pair.session.events, side)
        assert len([e for e in truth if e.kind == "IC"]) >= 3, (run.family, side, truth)
        report = evaluate(detected, truth, 0.05)
        for kind in ("TO", "IC"):
            result = report["kinds"][kind]
            assert result["recall"] == 1.0 and result["precision"] == 1.0, (run.family, side, kind, result)

