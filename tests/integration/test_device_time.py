"""Device time that lies: one packet's time stamp bit-flipped (it still decodes), and a device clock
that really is reset. The first is counted as corrupt and not believed; the second starts a new
segment of device time and streaming goes on."""

from __future__ import annotations

import dataclasses
import struct

import pytest

from gaitmon.events import GaitEvent
from gaitmon.sources.ble import acquire
from gaitmon.sources.virtual import Faults, emulated_pair
from gaitmon.sources.virtual.clock import run_virtual
from gaitmon.stream.live import LiveSession
from gaitmon.validation.evaluation import evaluate

#: family → (struct format, byte offset) of the device time field, and the bit that is ≈ 1 s.
TIME_FIELD = {"gaitmon_diy": ("<I", 4, 20), "movesense": ("<I", 2, 10), "polar_pmd": ("<Q", 1, 30)}
FAMILIES = sorted(TIME_FIELD)
FLIP_AT_S = 15.0


def with_time(family: str, data: bytes, change) -> bytes:
    fmt, offset, _ = TIME_FIELD[family]
    (value,) = struct.unpack_from(fmt, data, offset)
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, change(value) % (1 << (8 * struct.calcsize(fmt))))
    return bytes(out)


def tamper(device, family: str, from_s: float, change, once: bool):
    """Rewrite the device time of the frames sent from ``from_s`` on (only the first when ``once``)."""
    frames = device.frames

    def tampered(first_sample):
        done = False
        for frame in frames(first_sample):
            if frame.send_s >= from_s and not (once and done):
                done = True
                frame = dataclasses.replace(frame, data=with_time(family, frame.data, change))
            yield frame
    device.frames = tampered


def stream(pair, duration_s: float) -> tuple[LiveSession, float]:
    live = LiveSession("device time")
    run_virtual(acquire(pair.addresses, live, None, duration_s=duration_s, backends=pair.backends))
    return live, pair.air.origin


def events_match_truth(pair, live, origin, skip=()) -> bool:
    truth = [e for e in pair.session.events if e.kind in ("TO", "IC") and e.t > 3.0
             and not any(a <= e.t <= b for a, b in skip)]
    found = [GaitEvent(e.t - origin, e.side, e.kind, e.value) for e in live.events]
    found = [e for e in found if e.kind in ("TO", "IC") and e.t > 3.0 and not any(a <= e.t <= b for a, b in skip)]
    report = evaluate(found, truth, 0.05)
    return all(report["kinds"][k]["recall"] == 1.0 and report["kinds"][k]["precision"] == 1.0 for k in ("TO", "IC"))


@pytest.mark.parametrize("jump", ["+1 s", "-1 s", "top bit"])
@pytest.mark.parametrize("family", FAMILIES)
def test_one_bit_flipped_time_stamp_is_counted_corrupt_not_believed(family, jump):
    fmt, _, one_second_bit = TIME_FIELD[family]
    change = {"+1 s": lambda v: v + (1 << one_second_bit), "-1 s": lambda v: v - (1 << one_second_bit),
              "top bit": lambda v: v ^ (1 << (8 * struct.calcsize(fmt) - 2))}[jump]
    pair = emulated_pair(family, "balanced", seed=4, n_reps=1, recovery_s=4.0)
    tamper(pair.devices["left"], family, FLIP_AT_S, change, once=True)
    live, origin = stream(pair, float(pair.session.samples["left"][0][-1]))
    left = live.health()["left"]
    # A time stamp in the future is impossible (corrupt); one a second in the past could be a late packet.
    assert left.malformed + left.late == 1 and (jump == "-1 s" or left.malformed == 1), (family, left)
    skipped = pair.devices["left"].first_packet_samples
    if family == "polar_pmd":  # the other stream's frame of those samples arrived: the skipped one is filled
        assert (left.lost_samples, left.interpolated_samples) == (0, skipped), (family, left)
    else:
        assert left.lost_samples == skipped, (family, left)
    assert left.lost_packets == 1, (family, left)
    assert not [g for g in live.gaps if g.cause != "lost packets"]
    assert events_match_truth(pair, live, origin)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_device_clock_reset_while_streaming_starts_a_new_segment(family):
    fmt, _, one_second_bit = TIME_FIELD[family]
    jump = -(1 << (one_second_bit + 6))  # about a minute back: the clock was set
    pair = emulated_pair(family, "balanced", seed=4, n_reps=1, recovery_s=4.0)
    tamper(pair.devices["left"], family, FLIP_AT_S, lambda v: v + jump, once=False)
    live, origin = stream(pair, float(pair.session.samples["left"][0][-1]))
    resets = [g for g in live.gaps if g.cause == "device clock reset"]
    assert len(resets) == 1 and resets[0].sensor == "left" and not resets[0].exact
    assert abs(resets[0].t_start - origin - FLIP_AT_S) < 0.2 and resets[0].lost_samples < 20
    assert live.health()["left"].malformed == 0
    assert events_match_truth(pair, live, origin, skip=[(FLIP_AT_S - 0.5, FLIP_AT_S + 1.0)])


@pytest.mark.parametrize("family", FAMILIES)
def test_a_sensor_that_reboots_during_a_disconnection_is_followed(family):
    """Back from a reboot, the device clock starts again near zero: a new segment, not hours lost."""
    pair = emulated_pair(family, "balanced", seed=4, n_reps=1, recovery_s=4.0)
    drop, away = FLIP_AT_S, 1.5
    pair.devices["left"].faults = Faults(disconnect_at_s=drop, away_s=away, seed=1)
    tamper(pair.devices["left"], family, drop + away, lambda v: v - (1 << (8 * struct.calcsize(TIME_FIELD[family][0]) - 4)),
           once=False)
    live, origin = stream(pair, float(pair.session.samples["left"][0][-1]))
    left = live.health()["left"]
    assert left.reconnects == 1 and left.malformed == 0
    gaps = [g for g in live.gaps if g.sensor == "left" and g.cause != "lost packets"]
    assert [g.cause for g in gaps] == ["device clock reset"] or [g.cause for g in gaps] == ["disconnected"], gaps
    assert all(g.t_end - g.t_start < away + 2.5 and g.lost_samples < (away + 2.5) * pair.devices["left"].nominal_rate_hz
               for g in gaps)
    assert events_match_truth(pair, live, origin, skip=[(drop - 1.0, drop + away + 3.0)])
