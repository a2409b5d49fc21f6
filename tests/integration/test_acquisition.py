"""The whole BLE path on emulated sensors: bleak (custom backend) → families → decoders → timing → core.

Everything runs on a virtual-time event loop, so a minute of two-sensor streaming takes seconds and
every run is identical. The acquisition code is the production code: only bleak's ``backend=`` differs.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from gaitmon.validation.evaluation import evaluate
from gaitmon.events import GaitEvent
from gaitmon.stream.live import LiveSession
from gaitmon.stream.pipeline import detect_events
from gaitmon.stream.timing import MAX_FILL_S
from gaitmon.sources.ble import acquire, scan
from gaitmon.sources.virtual import DEVICES, Faults, VirtualAir, emulated_pair
from gaitmon.sources.virtual.clock import run_virtual

FAMILIES = sorted(DEVICES)
#: Families whose packets carry device time: their loss counts are exact.
TIMED = [f for f in FAMILIES if f != "witmotion"]


def stream(pair, duration_s: float, rate_hz: float | None = None, session: LiveSession | None = None,
           sensors: dict | None = None) -> tuple[LiveSession, float]:
    """Stream the pair into a LiveSession for ``duration_s`` of virtual time; returns it and the sim origin."""
    live = session or LiveSession("test athlete")

    async def main():
        await acquire(sensors or pair.addresses, live, rate_hz, duration_s=duration_s, backends=pair.backends)

    run_virtual(main())
    return live, pair.air.origin


def in_sim_time(events, origin):
    return [GaitEvent(e.t - origin, e.side, e.kind, e.value) for e in events]


def sprint_faults(seed: int) -> Faults:
    return Faults(drop=0.01, duplicate=0.01, reorder=0.01, corrupt=0.01, jitter_s=0.020, seed=seed)


@pytest.fixture(scope="module", params=FAMILIES)
def faulty_session(request):
    """60 s of two-sensor sprint reps per family: 1 % each of lost, duplicated, swapped and corrupted
    notifications, 20 ms jitter, ±200 ppm crystals."""
    pair = emulated_pair(request.param, "balanced", seed=3, n_reps=2, recovery_s=12.0,
                         faults={"left": sprint_faults(1), "right": sprint_faults(2)}, drift_ppm=(200.0, -200.0))
    duration = float(pair.session.samples["left"][0][-1]) + 0.5
    live = LiveSession("faults")
    received = {"left": [], "right": []}
    live.block_listener = lambda role, blocks: received[role].extend(blocks)
    _, origin = stream(pair, duration, session=live)
    return request.param, pair, live, origin, received


def test_no_missed_and_no_phantom_events(faulty_session):
    family, pair, live, origin, _ = faulty_session
    rate = pair.devices["left"].nominal_rate_hz
    truth = [e for e in pair.session.events if e.kind in ("TO", "IC") and e.t > 3.0]
    detected = [e for e in in_sim_time(live.events, origin) if e.kind in ("TO", "IC") and e.t > 3.0]
    # Arrival-timed packets (WitMotion) carry 20 ms of jitter into the clock fit, and a walking
    # stride's late-stance descent is gentle: its toe-off may move past 50 ms, never past 80 ms.
    report = evaluate(detected, truth, 0.05 if family in TIMED else 0.08, sample_rate_hz=rate)
    for kind in ("TO", "IC"):
        assert report["kinds"][kind]["recall"] == 1.0 and report["kinds"][kind]["precision"] == 1.0, (family, kind)


@pytest.mark.parametrize("faulty_session", TIMED, indirect=True)
def test_streamed_events_equal_the_core_on_the_samples_that_arrived(faulty_session):
    """The acquisition path adds only its time-stamp error: the core run offline on the very samples
    that arrived, at their true times, finds the same events within 2 ms (plus the link's 1 ms latency)."""
    family, pair, live, origin, received = faulty_session
    samples = {}
    for side, blocks in received.items():
        device = pair.devices[side]
        index = np.concatenate([b.index for b in blocks])
        samples[side] = (true_time_of_samples(device, index, device.first_packet_samples),
                         np.concatenate([b.x for b in blocks]))
    offline = [e for e in detect_events(samples, sample_rate_hz=pair.devices["left"].nominal_rate_hz)]
    streamed = in_sim_time(live.events, origin)
    report = evaluate(streamed, offline, 0.05, kinds=("TO", "MSW", "IC"))
    for kind, result in report["kinds"].items():
        assert result["recall"] == 1.0 and result["precision"] == 1.0, (family, kind)
        assert 0.0 <= result["agreement"]["bias"] <= 0.003, (family, kind, result["agreement"])
        assert result["agreement"]["p95_abs"] <= 0.003, (family, kind, result["agreement"])


def test_every_injected_fault_is_counted(faulty_session):
    family, pair, live, origin, _ = faulty_session
    health = live.health()
    for side, device in pair.devices.items():
        log, status = device.log, health[side]
        assert log.dropped > 0 and log.corrupted > 0 and log.duplicated > 0 and log.reordered > 0
        if family in TIMED:  # a repeated corrupted packet is malformed twice
            assert status.malformed == log.corrupted_arrived, (family, side)
        else:  # ... or, recognised by its identical bytes, malformed once and a duplicate once
            assert status.malformed == log.corrupted_arrived - log.corrupted_duplicated, (family, side)
            assert status.duplicates == log.duplicated, (family, side)
        assert status.reconnects == 0 and status.state == "stopped"
        if family in TIMED:
            # A loss is seen when a later packet arrives: the stream's final packets cannot count.
            last_received = live.feeds[side].timeline.health.last_sample_t - origin
            packets, samples = log.losses_before(last_received)
            assert status.lost_packets == packets, (family, side)
            if family == JOINED:
                lost, filled = lost_and_filled(log, last_received, 2, device.nominal_rate_hz)
                assert (status.lost_samples, status.interpolated_samples) == (lost, filled), (family, side)
                assert lost + filled == samples and filled > 0
            else:
                assert status.lost_samples == samples and status.interpolated_samples == 0, (family, side)
            assert status.duplicates == log.duplicated - log.corrupted_duplicated, (family, side)
            assert status.late == 0
            gaps = [g for g in live.gaps if g.sensor == side]
            assert sum(g.lost_samples for g in gaps) == status.lost_samples
            if family != JOINED:  # (Polar's packets lost in one stream leave no gap: they are filled)
                assert sum(g.lost_packets for g in gaps) == status.lost_packets
            assert all(g.exact and g.cause == "lost packets" for g in gaps)


#: The family whose samples come in two streams (acc and gyro frames of the same instants).
JOINED = "polar_pmd"


def lost_and_filled(log, before_s: float, streams: int, rate_hz: float) -> tuple[int, int]:
    """Samples lost in every stream, and samples lost in some only (filled), before ``before_s``.

    Exact while no stream has a hole longer than :data:`~gaitmon.stream.timing.MAX_FILL_S` (a
    longer one loses its samples): checked, on the runs of samples lost in any stream.
    """
    times = Counter(s for t, n, first, _ in log.losses if t < before_s for s in range(first, first + n))
    lost = np.array(sorted(times))
    runs = np.split(lost, np.flatnonzero(np.diff(lost) != 1) + 1)
    assert max(len(r) for r in runs) + 1 <= int(MAX_FILL_S * rate_hz), "a hole too long to fill: count it by stream"
    both = sum(1 for count in times.values() if count == streams)
    return both, len(times) - both


def true_time_of_samples(device, index: np.ndarray, first_packet_n: int) -> np.ndarray:
    """Sim time of timeline indices (index 0 is the last sample of the first packet received)."""
    return device.sample_time(device.first_sent + first_packet_n - 1 + index)


@pytest.mark.parametrize("family", TIMED)
def test_left_right_alignment_under_drift_and_jitter(family):
    pair = emulated_pair(family, "balanced", seed=5, n_reps=1, recovery_s=4.0,
                         faults={"left": Faults(jitter_s=0.020, seed=1), "right": Faults(jitter_s=0.020, seed=2)},
                         drift_ppm=(200.0, -200.0))
    captured = {"left": [], "right": []}
    live = LiveSession("alignment")
    live.block_listener = lambda role, blocks: captured[role].extend(blocks)
    _, origin = stream(pair, 25.0, session=live)
    error = {}
    for side, blocks in captured.items():
        first_n = pair.devices[side].first_packet_samples
        t = np.concatenate([b.t for b in blocks]) - origin
        index = np.concatenate([b.index for b in blocks])
        error[side] = (t - true_time_of_samples(pair.devices[side], index, first_n), t)
    grid = np.arange(12.0, 24.0, 0.01)  # after 10 s of streaming
    left = np.interp(grid, error["left"][1], error["left"][0])
    right = np.interp(grid, error["right"][1], error["right"][0])
    alignment = np.abs(left - right)
    assert alignment.max() <= 0.002, (family, alignment.max())


@pytest.mark.parametrize("family", FAMILIES)
def test_disconnect_mid_rep_reconnects_within_two_seconds(family):
    pair = emulated_pair(family, "balanced", seed=4, n_reps=1, recovery_s=4.0)
    rep_start = pair.session.reps[0]["start_s"]
    drop_at, away = rep_start + 2.0, 1.5
    pair.devices["left"].faults = Faults(disconnect_at_s=drop_at, away_s=away, seed=1)
    captured = []
    live = LiveSession("reconnect")
    live.block_listener = lambda role, blocks: captured.extend((role, b.t[0]) for b in blocks)
    _, origin = stream(pair, float(pair.session.samples["left"][0][-1]), session=live)
    back = drop_at + away
    resumed = min(t - origin for role, t in captured if role == "left" and t - origin > drop_at)
    assert resumed - back <= 2.0, (family, resumed - back)
    status = live.health()
    assert status["left"].reconnects == 1 and status["right"].reconnects == 0
    gaps = [g for g in live.gaps if g.cause == "disconnected"]
    assert len(gaps) == 1 and gaps[0].sensor == "left"
    assert gaps[0].t_start - origin < drop_at + 0.05 and gaps[0].t_end - origin >= back
    assert gaps[0].lost_samples >= away * pair.devices["left"].nominal_rate_hz
    assert not [g for g in live.gaps if g.sensor == "right"]
    # Steps go on after the gap: the rep's later contacts are still found on the left leg.
    late_left = [e for e in in_sim_time(live.events, origin) if e.side == "left" and e.kind == "IC" and e.t > back + 1]
    assert late_left


def test_scan_lists_each_family_with_name_address_and_rssi():
    pairs = [emulated_pair(family, "balanced", seed=0, n_reps=1, recovery_s=0.0, sides=("left",)) for family in FAMILIES]
    for i, p in enumerate(pairs):  # distinct addresses in one air
        p.devices["left"].address = f"C0:FF:EE:00:01:{i:02X}"
    air = VirtualAir([p.devices["left"] for p in pairs])
    found = run_virtual(scan(0.5, (air.scanner_backend, air.client_backend)))
    assert sorted(f.family for f in found) == FAMILIES
    for f in found:
        assert f.name and f.address.startswith("C0:FF:EE:00:01:") and f.rssi == -55


def test_unsupported_rate_fails_that_sensor_only():
    pair = emulated_pair("gaitmon_diy", "balanced", seed=0, n_reps=1, recovery_s=2.0, rate_hz=500.0)
    live, _ = stream(pair, 6.0, rate_hz=1000.0)
    assert {s.state for s in live.health().values()} == {"failed"}
    assert "refused 1000 Hz" in live.health()["left"].detail


def test_single_sensor_session():
    pair = emulated_pair("gaitmon_diy", "balanced", seed=0, n_reps=1, recovery_s=4.0, sides=("left",))
    live, origin = stream(pair, float(pair.session.samples["left"][0][-1]))
    assert set(live.legs) == {"left"}
    steps = live.steps()
    assert len([s for s in steps if s.side == "left"]) > 10


def test_the_loop_clock_is_the_only_clock():
    """Host times come from the loop: on a virtual loop they are virtual (nothing reads the wall clock)."""
    pair = emulated_pair("gaitmon_diy", "balanced", seed=0, n_reps=1, recovery_s=0.0)
    live, origin = stream(pair, 8.0)
    assert origin == pytest.approx(1000.0, abs=1e-9)
    last = max(e.t for e in live.events) if live.events else origin
    assert origin <= last <= origin + 8.0


def test_cli_scan_and_live_on_emulated_sensors(tmp_path, capsys):
    from gaitmon.cli import main

    assert main(["scan", "--emulated", "witmotion", "--timeout", "0.5"]) == 0
    listing = capsys.readouterr().out
    assert "WT901BLE68L" in listing and "C0:FF:EE:00:00:01" in listing and "dBm" in listing
    out = tmp_path / "live"
    assert main(["live", "--left", "L", "--right", "R", "--emulated", "gaitmon_diy", "--virtual-clock",
                 "--duration", "20", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "gaitmon_diy" in text and "lost 0 packets" in text
    lines = text.splitlines()
    assert f"Recording to: {out}" in lines and lines[-1] == f"Report: {out / 'report.html'}"
    assert all(re.fullmatch(r"\[ *[\d.]+ s\] recording \| left: \d+ Hz, 0 packets lost(, battery \d+ %)? \| right: .* "
                            r"\| \d+ contacts", line) for line in lines if "contacts" in line)
    for name in ("events.csv", "steps.csv", "gaps.csv", "health.csv"):
        assert (out / name).is_file()
    assert "streaming" not in (out / "health.csv").read_text().splitlines()[1]  # final state is recorded


def test_three_athletes_share_one_loop_and_one_connect_lock():
    pairs = [emulated_pair("gaitmon_diy", "balanced", seed=s, n_reps=1, recovery_s=2.0, rate_hz=500.0) for s in range(3)]
    devices = []
    for a, pair in enumerate(pairs):
        for side, device in pair.devices.items():
            device.address = f"C0:FF:EE:0{a}:00:0{1 if side == 'left' else 2}"
            devices.append(device)
    air = VirtualAir(devices)
    sessions = [LiveSession(f"athlete {a}") for a in range(3)]

    async def main():
        import asyncio

        lock = asyncio.Lock()
        await asyncio.gather(*[
            acquire({side: f"C0:FF:EE:0{a}:00:0{1 if side == 'left' else 2}" for side in ("left", "right")},
                    sessions[a], 500.0, duration_s=12.0, backends=(air.scanner_backend, air.client_backend),
                    connect_lock=lock)
            for a in range(3)])

    run_virtual(main())
    for live in sessions:
        health = live.health()
        assert set(health) == {"left", "right"}
        assert all(s.samples > 500 * 8 and s.lost_packets == 0 for s in health.values())
