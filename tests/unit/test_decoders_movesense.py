"""Movesense GSP decoder: documented command bytes, the IMU6 vector, malformed packets, fuzzing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gaitmon.sensors.decoder import DecodedPacket, DecodeStats, MalformedPacket
from gaitmon.sensors.movesense.protocol import (COMMAND_UUID, DATA_UUID, IMU6_RATES_HZ, MAX_IMU6_SAMPLES, SERVICE_UUID,
                                        MovesenseDecoder, encode_command_result, encode_hello_reply, encode_imu6,
                                        hello_command, imu6_path, max_imu6_samples, samples_per_notification,
                                        subscribe_command, unsubscribe_command)
from tests.conftest import load_vectors


def _vectors() -> dict:
    return load_vectors("movesense")


def _vector(vector_id: str) -> dict:
    return next(v for v in _vectors()["vectors"] if v["id"] == vector_id)


def test_uuids_match_vectors():
    uuids = _vectors()["uuids"]
    assert (SERVICE_UUID, COMMAND_UUID, DATA_UUID) == (uuids["service"], uuids["command_write"], uuids["data_notify"])


def test_command_vectors():
    hello, sub_acc, sub_imu6, unsub, hello_reply = (bytes.fromhex(p) for p in _vector("gsp_commands")["packets"])
    assert hello_command(123) == hello
    assert subscribe_command(99, "/Meas/Acc/13") == sub_acc
    assert subscribe_command(99, imu6_path(104)) == sub_imu6
    assert unsubscribe_command(99) == unsub
    assert encode_hello_reply(123) == hello_reply
    reply = MovesenseDecoder(104).decode(hello_reply)
    assert reply.kind == "reply" and reply.info["ref"] == 123 and reply.info["text"] == "Hello"
    assert not reply.info["for_subscription"] and reply.acc is None


def test_imu6_vector():
    vector = _vector("gsp_imu6_synthetic")
    packet = bytes.fromhex(vector["packets"][0])
    expected = vector["expected"]["constructed"]
    rate = vector["settings"]["sample_rate_hz"]
    decoded = MovesenseDecoder(rate, client_ref=99).decode(packet)
    n = vector["settings"]["samples_per_packet"]
    assert len(packet) == expected["length_bytes"] and decoded.info["n"] == n
    assert decoded.kind == "data" and decoded.counter is None
    assert decoded.info["first_time_ms"] == expected["timestamp_ms"]
    assert decoded.acc.shape == decoded.gyro.shape == (n, 3)
    assert decoded.acc.tolist() == expected["acc_ms2"]  # float32 → float64 is exact
    np.testing.assert_array_equal(decoded.gyro, np.radians(expected["gyro_dps"]))
    # device time is the LAST sample: first + (N − 1)/fs
    assert decoded.device_time_s == pytest.approx(expected["timestamp_ms"] / 1000 + (n - 1) / rate, abs=1e-12)
    # and the encoder rebuilds the same bytes
    assert encode_imu6(99, expected["timestamp_ms"], expected["acc_ms2"], np.radians(expected["gyro_dps"])) == packet


def test_paths_rates_and_batching():
    assert IMU6_RATES_HZ == (13, 26, 52, 104, 208, 416, 833)
    assert imu6_path(208) == "/Meas/IMU6/208"
    with pytest.raises(ValueError):
        imu6_path(100)
    assert max_imu6_samples() == 6  # (161 − 3 − 6) // 24
    assert [samples_per_notification(r) for r in IMU6_RATES_HZ] == [1, 2, 4, 6, 6, 6, 6]
    assert samples_per_notification(104, mtu=247) == 8 and samples_per_notification(833, mtu=517) == MAX_IMU6_SAMPLES
    for bad in (lambda: hello_command(0), lambda: subscribe_command(256, "/Meas/IMU6/13"),
                lambda: subscribe_command(1, "Meas"), lambda: subscribe_command(1, "/" + "x" * 200)):
        with pytest.raises(ValueError):
            bad()


def test_command_result_status_is_big_endian_like_the_firmware():
    # GATTSensorDataClient.cpp builds the no-free-slot reply as {1, ref, 0x01, 0xFB} = 507
    packet = bytes([1, 99, 0x01, 0xFB])
    assert encode_command_result(99, 507) == packet
    reply = MovesenseDecoder(208).decode(packet)
    assert reply.kind == "reply" and reply.info == {"ref": 99, "for_subscription": True, "status": 507}


def test_loss_rule_on_consecutive_notifications():
    rate, n = 208, samples_per_notification(208)
    decoder = MovesenseDecoder(rate)
    zeros = np.zeros((n, 3))
    first = [round(1000 * k * n / rate) for k in range(5)]
    del first[2]  # one notification lost
    steps = np.diff([decoder.decode(encode_imu6(99, t, zeros, zeros)).info["first_time_ms"] for t in first])
    lost = np.rint(steps * rate / 1000).astype(int) - n
    assert lost.tolist() == [0, n, 0]


def _valid(n: int = 3, ref: int = 99) -> bytes:
    acc = np.arange(3 * n, dtype=float).reshape(n, 3)
    return encode_imu6(ref, 4_294_967_290, acc, -acc / 10)


@pytest.mark.parametrize("packet", [
    b"", b"\x02", b"\x01\x63", b"\x01\x63\xff", bytes([3, 99]) + bytes(30),  # DATA_PART2?
    _valid()[:-1], _valid() + b"\x00", _valid()[:6], _valid()[:29],
    _valid(ref=98),  # another subscription
    _valid()[:6] + np.full(6, np.nan, "<f4").tobytes() + bytes(24),
    _valid()[:6] + np.array([np.inf] + [0] * 5, "<f4").tobytes(),
    _valid(MAX_IMU6_SAMPLES) + bytes(24),  # longer than a notification can be
])
def test_malformed_packets_are_counted_not_raised(packet):
    stats = DecodeStats()
    assert stats.decode(MovesenseDecoder(104), packet) is None
    assert stats.malformed == 1 and stats.packets == 0 and stats.last_error


def test_unknown_response_type_names_the_continuation():
    with pytest.raises(MalformedPacket, match="DATA_PART2"):
        MovesenseDecoder(104).decode(bytes([3, 99]) + bytes(24))


def test_wrapped_timestamp_is_raw():
    decoded = MovesenseDecoder(13).decode(encode_imu6(99, 2**32 + 5, np.ones((1, 3)), np.ones((1, 3))))
    assert decoded.info["first_time_ms"] == 5 and decoded.device_time_s == pytest.approx(0.005)


_finite = st.floats(-1e6, 1e6, allow_nan=False, width=32)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, MAX_IMU6_SAMPLES), data=st.data(), t=st.integers(0, 2**32 - 1),
       rate=st.sampled_from(IMU6_RATES_HZ))
def test_round_trip(n, data, t, rate):
    acc = data.draw(hnp.arrays(np.float64, (n, 3), elements=_finite))
    gyro = data.draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(-100, 100, allow_nan=False)))
    decoded = MovesenseDecoder(rate, client_ref=7).decode(encode_imu6(7, t, acc, gyro))
    np.testing.assert_array_equal(decoded.acc, acc)  # acc is float32-representable: exact
    np.testing.assert_allclose(decoded.gyro, gyro, rtol=2e-7, atol=1e-30)
    assert decoded.info["n"] == n and decoded.device_time_s == pytest.approx(t / 1000 + (n - 1) / rate)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), cut=st.integers(0, 600), flip=st.integers(0, 599), mask=st.integers(1, 255),
       n=st.integers(1, 8))
def test_fuzz_only_decoded_or_malformed(data, cut, flip, mask, n):
    good = _valid(n)
    mutated = bytearray(good)
    mutated[flip % len(good)] ^= mask
    stats = DecodeStats()
    decoder = MovesenseDecoder(208)
    packets = (data, bytes([2, 99]) + data, bytes([1, 99]) + data, good[:cut], bytes(mutated), good + data)
    for packet in packets:
        try:
            decoded = decoder.decode(packet)
        except MalformedPacket:
            continue
        assert isinstance(decoded, DecodedPacket)
        if decoded.kind == "data":
            assert decoded.acc.shape == decoded.gyro.shape == ((len(packet) - 6) // 24, 3)
            assert np.isfinite(decoded.acc).all() and np.isfinite(decoded.gyro).all()
            assert math.isfinite(decoded.device_time_s)
    results = [stats.decode(decoder, p) for p in packets]
    assert stats.malformed == sum(r is None for r in results) and stats.packets + stats.malformed == len(packets)
    assert stats.decode(decoder, good[:-1]) is None  # a truncated packet always counts as bad
