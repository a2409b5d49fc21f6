"""Junk in, :class:`MalformedPacket` out: every decoder and every setup-time parser, fuzzed.

Inputs are random bytes and valid notifications of each family with bits flipped, bytes set,
cut short, extended or spliced. A decoder may accept junk that happens to be valid; it may never
raise anything else, warn (warnings are errors in this suite), return non-finite samples, or let
a bad packet go uncounted (WitMotion junk inside an accepted notification included).
``benchmarks/bench_fuzz_decoders.py`` runs 10⁶ notifications per decoder and parser.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.sensors.decoder import DecodeStats, MalformedPacket
from gaitmon.sensors.diy import protocol as diy
from gaitmon.sensors.movesense import protocol as movesense
from gaitmon.sensors.movesense.family import _is_result
from gaitmon.sensors.polar import protocol as polar
from gaitmon.sensors.witmotion import protocol as witmotion


def _samples(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 20, (n, 3)), rng.normal(0, 5, (n, 3))


def _seeds() -> dict[str, list[bytes]]:
    """Valid notifications (and setup replies) per decoder: what mutations start from."""
    acc, gyro = _samples(17)
    acc_counts = polar.si_to_counts(acc, polar.ACC, polar.VERITY_ACC_FACTOR)
    gyro_counts = polar.si_to_counts(gyro, polar.GYRO, polar.VERITY_GYRO_FACTOR)
    stamp = 848_534_400 * 10**9
    start_reply = bytes([polar.RESPONSE_CODE, polar.OP_REQUEST_MEASUREMENT_START, polar.GYRO, 0, 0,
                         polar.SETTING_FACTOR, 1]) + struct.pack("<f", polar.VERITY_GYRO_FACTOR)
    settings_tlv = polar.start_command(polar.ACC, 416, 16, 16, 3)[2:]
    return {
        "diy": [diy.encode_data(7, 4_290_000_000, acc[:10], gyro[:10]), bytes([0x81, 0]),
                bytes([0x83, 0, 0xE8, 0x03, 3, 3, 87, 0])],
        "science_journal": [struct.pack("<3f", 0.1, -0.98, 0.02), struct.pack("<3f", 120.0, -3.5, 0.0)],
        "movesense": [movesense.encode_imu6(99, 7_654_321, acc[:6], gyro[:6]), movesense.encode_command_result(99, 507),
                      movesense.encode_hello_reply(1)],
        "witmotion": [witmotion.encode_sample(acc[0], gyro[0]) * 2, witmotion.encode_register_reply(3, [11, 0]),
                      witmotion.encode_sample(acc[1], gyro[1])[:7]],
        "polar_data": [polar.encode_frame(polar.ACC, stamp, acc_counts), polar.encode_frame(polar.GYRO, stamp, gyro_counts)],
        "polar_control": [start_reply, bytes([polar.ONLINE_MEASUREMENT_STOPPED, polar.ACC, polar.GYRO]),
                          bytes([0x0F, 0x24, 0x02]), bytes([0x0F]) + settings_tlv],
    }


SEEDS = _seeds()


def decoders() -> dict[str, tuple[str, object]]:
    """name → (seed family, fresh decoder)."""
    return {
        "diy profile": ("diy", diy.GaitmonProfileDecoder(1000.0)),
        "science journal acc": ("science_journal", diy.ScienceJournalDecoder("acc")),
        "science journal gyro": ("science_journal", diy.ScienceJournalDecoder("gyro")),
        "movesense": ("movesense", movesense.MovesenseDecoder(416.0, client_ref=99)),
        "witmotion": ("witmotion", witmotion.WitMotionDecoder(200.0)),
        "polar acc": ("polar_data", polar.PolarPmdDecoder(polar.ACC, 416.0)),
        "polar gyro": ("polar_data", polar.PolarPmdDecoder(polar.GYRO, 416.0, factor=polar.VERITY_GYRO_FACTOR)),
        "polar control point": ("polar_control", polar.PolarControlPointDecoder()),
    }


#: Setup-time parsers: name → (seed family, parse function). Their results are not data.
PARSERS = {
    "polar control point reply": ("polar_control", polar.parse_control_point_reply),
    "polar feature bitmap": ("polar_control", polar.parse_feature_bitmap),
    "polar settings": ("polar_control", lambda data: polar.parse_settings(data[1:])),
    "movesense result router": ("movesense", _is_result),
}


@st.composite
def junk(draw, family: str):
    """Random bytes, or a valid notification of ``family`` mutated."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=260))
    seeds = SEEDS[family]
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 4))
        if op == 0 and data:  # flip a bit
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == 1 and data:  # set a byte
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        elif op == 2:  # cut short
            del data[draw(st.integers(0, len(data))):]
        elif op == 3:  # extend
            data += draw(st.binary(min_size=1, max_size=24))
        else:  # splice another seed in
            other = draw(st.sampled_from(seeds))
            data[draw(st.integers(0, len(data))):] = other[draw(st.integers(0, len(other))):]
    return bytes(data)


def check_decoded(packet, stats: DecodeStats) -> None:
    """An accepted packet holds finite samples, and any junk it carried is counted."""
    for values in (packet.acc, packet.gyro):
        if values is not None:
            assert values.ndim == 2 and values.shape[1] == 3 and np.isfinite(values).all()
    if packet.device_time_s is not None:
        assert np.isfinite(packet.device_time_s)
    if packet.info.get("skipped_bytes"):
        assert stats.malformed >= 1


@pytest.mark.parametrize("name", sorted(decoders()))
def test_decoders_raise_only_malformed_packet_and_count_every_bad_one(name):
    family, decoder = decoders()[name]
    stats = DecodeStats()
    seen = [0]

    @settings(deadline=None, max_examples=400, database=None)
    @given(data=junk(family))
    def run(data):
        packets, malformed = stats.packets, stats.malformed
        packet = stats.decode(decoder, data)
        seen[0] += 1
        if packet is None:
            assert (stats.packets, stats.malformed) == (packets, malformed + 1)
        else:
            assert stats.packets == packets + 1
            assert stats.malformed == malformed + packet.info.get("malformed_fragments", 0)
            check_decoded(packet, stats)

    run()
    assert seen[0] > 0 and stats.malformed > 0


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_setup_time_parsers_raise_only_malformed_packet(name):
    family, parse = PARSERS[name]

    @settings(deadline=None, max_examples=400, database=None)
    @given(data=junk(family))
    def run(data):
        try:
            parse(data)
        except MalformedPacket:
            pass

    run()


def test_science_journal_nan_patterns_are_malformed_without_a_warning():
    decoder = diy.ScienceJournalDecoder("acc")
    for pattern in ("c8b6192cbb6a3f3748e1bcff", "0000c07f0000803f00000000", "000080ff0000000000000000"):
        with pytest.raises(MalformedPacket):
            decoder.decode(bytes.fromhex(pattern))


def test_movesense_router_takes_a_one_byte_notification_as_a_cut_reply():
    # A result cut short goes to the waiting command, whose decoding says MalformedPacket (the set-up is
    # then retried: tests/integration/test_link_faults.py); never an IndexError.
    assert _is_result(b"\x01") is True and _is_result(b"") is True


def test_polar_start_reply_with_an_empty_factor_setting_has_no_factor():
    """Found by the 10⁶ benchmark: a FACTOR TLV with a count of 0 made the reply parser index an empty list."""
    reply = polar.parse_control_point_reply(bytes.fromhex("f002050000050002011000040103"))
    assert reply.factor is None
