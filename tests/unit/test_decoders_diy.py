"""DIY decoders: the gaitmon GATT profile and the Arduino Science Journal layout."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.consts import STANDARD_GRAVITY
from gaitmon.sensors.decoder import DecodedPacket, DecodeStats, MalformedPacket
from gaitmon.sensors.diy.protocol import (GaitmonProfileDecoder, ScienceJournalDecoder, encode_data, info_command,
                                  start_command, stop_command)
from tests.conftest import load_vectors


def test_science_journal_vector():
    vector = load_vectors("diy")["vectors"][0]
    acc_packet, gyro_packet = (bytes.fromhex(p) for p in vector["packets"])
    expected = vector["expected"]["constructed"]
    acc = ScienceJournalDecoder("acc").decode(acc_packet)
    gyro = ScienceJournalDecoder("gyro").decode(gyro_packet)
    assert acc.info["raw"] == expected["acc_g"]
    assert gyro.info["raw"] == expected["gyro_dps"]
    np.testing.assert_allclose(acc.acc[0], np.array(expected["acc_g"]) * STANDARD_GRAVITY)
    np.testing.assert_allclose(gyro.gyro[0], np.radians(expected["gyro_dps"]))


def test_profile_round_trip_and_timing():
    acc = np.array([[0.0, 0.0, 9.81], [1.0, -2.0, 30.0], [150.0, -150.0, 0.5]])
    gyro = np.array([[0.0, 0.1, -0.1], [20.0, -30.0, 5.0], [34.0, -34.0, 0.0]])
    packet = encode_data(65535, 1_000_000, acc, gyro)
    decoded = GaitmonProfileDecoder(1000.0).decode(packet)
    np.testing.assert_allclose(decoded.acc, acc, atol=16 * STANDARD_GRAVITY / 32768)
    np.testing.assert_allclose(decoded.gyro, gyro, atol=math.radians(2000) / 32768)
    assert decoded.counter == 65535
    assert decoded.device_time_s == pytest.approx(1.002)  # last of 3 samples at 1 kHz
    assert len(packet) == 10 + 3 * 12


def test_commands_and_replies():
    assert start_command(1000) == bytes([0x01, 0xE8, 0x03, 3, 3])
    assert stop_command() == b"\x02" and info_command() == b"\x03"
    reply = GaitmonProfileDecoder(1000.0).decode(bytes([0x83, 0, 0xE8, 0x03, 3, 3, 87, 0]))
    assert reply.kind == "reply" and reply.info["rate_hz"] == 1000 and reply.info["battery_pct"] == 87
    assert GaitmonProfileDecoder(1000.0).decode(bytes([0x81, 1])).info["status_text"] == "unsupported rate"


@pytest.mark.parametrize("packet", [b"", b"\x01", bytes(9), encode_data(1, 0, np.zeros((2, 3)), np.zeros((2, 3)))[:-1],
                                    encode_data(1, 0, np.zeros((2, 3)), np.zeros((2, 3))) + b"\x00",
                                    b"\x02" + encode_data(1, 0, np.zeros((1, 3)), np.zeros((1, 3)))[1:]])
def test_malformed_profile_packets_are_counted_not_raised(packet):
    stats = DecodeStats()
    assert stats.decode(GaitmonProfileDecoder(500.0), packet) is None
    assert stats.malformed == 1 and stats.packets == 0 and stats.last_error


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=260), cut=st.integers(0, 260), flip=st.integers(0, 259))
def test_fuzz_only_decoded_or_malformed(data, cut, flip):
    good = encode_data(7, 123, np.ones((4, 3)), np.ones((4, 3)))
    mutated = bytearray(good)
    mutated[flip % len(good)] ^= 0xFF
    for decoder in (GaitmonProfileDecoder(200.0), ScienceJournalDecoder("acc"), ScienceJournalDecoder("gyro")):
        for packet in (data, good[:cut], bytes(mutated), good + data):
            try:
                assert isinstance(decoder.decode(packet), DecodedPacket)
            except MalformedPacket:
                pass
