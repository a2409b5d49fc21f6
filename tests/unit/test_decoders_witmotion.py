"""WitMotion decoder: documented commands and packets, byte-stream reassembly, junk, truncation, fuzzing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.consts import STANDARD_GRAVITY
from gaitmon.sensors.decoder import DecodedPacket, DecodeStats, MalformedPacket
from gaitmon.sensors.witmotion.protocol import (ACC_SCALE, ANGLE_SCALE, GYRO_SCALE, NOTIFY_UUID, RATE_CODES, SERVICE_UUID,
                                        WRITE_UUID, WitMotionDecoder, encode_register_reply, encode_sample,
                                        rate_command, read_register_command, save_command, setup_commands,
                                        unlock_command, write_register_command)
from tests.conftest import VECTORS, load_vectors


def _vectors() -> dict:
    return load_vectors("witmotion")


def _vector(vector_id: str) -> dict:
    return next(v for v in _vectors()["vectors"] if v["id"] == vector_id)


def _synthetic_packets() -> list[bytes]:
    """The two synthetic 0x61 frames of the vector file (built here if the file is absent)."""
    path = VECTORS / "witmotion.json"
    if path.exists():
        return [bytes.fromhex(p) for p in _vector("wit_0x61_synthetic")["packets"]]
    return [bytes.fromhex("55610000000000080000000000001c07c7f10040"),
            bytes.fromhex("556100ec001800f8001000c00060b68000200000")]


def _stack(packets: list[DecodedPacket]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    acc = np.vstack([p.acc for p in packets]) if packets else np.empty((0, 3))
    gyro = np.vstack([p.gyro for p in packets]) if packets else np.empty((0, 3))
    angles = np.vstack([p.info["angles_deg"] for p in packets]) if packets else np.empty((0, 3))
    return acc, gyro, angles, [r for p in packets for r in p.info["registers"]]


def test_uuids_keep_the_9a34fb_quirk():
    uuids = _vectors()["uuids"]
    assert (SERVICE_UUID, NOTIFY_UUID, WRITE_UUID) == (uuids["service"], uuids["notify"], uuids["write"])
    assert all(u.endswith("-0000-1000-8000-00805f9a34fb") for u in (SERVICE_UUID, NOTIFY_UUID, WRITE_UUID))


def test_command_vectors():
    vector = _vector("wit_commands")
    packets = [bytes.fromhex(p) for p in vector["packets"]]
    meanings = [d["meaning"] for d in vector["expected"]["documented"]]
    built = [unlock_command(), save_command(), *(rate_command(r) for r in (1, 5, 10, 50, 100, 200)),
             read_register_command(0x3A), read_register_command(0x51)]
    assert meanings[2:8] == ["rate 1 Hz", "rate 5 Hz", "rate 10 Hz (default)", "rate 50 Hz", "rate 100 Hz",
                             "rate 200 Hz"]
    assert built == packets
    assert write_register_command(0x69, 0xB588) == unlock_command()
    assert setup_commands(200) == [(unlock_command(), 0.1), (bytes.fromhex("ffaa030b00"), 0.1), (save_command(), 0.0)]
    assert sorted(RATE_CODES) == [1, 5, 10, 50, 100, 200]
    for bad in (lambda: rate_command(20), lambda: write_register_command(256, 0),
                lambda: write_register_command(3, 1 << 16)):
        with pytest.raises(ValueError):
            bad()


def test_register_reply_vector():
    vector = _vector("wit_0x71_magnetometer_doc_example")
    packet = bytes.fromhex(vector["packets"][0])
    expected = vector["expected"]["documented"]
    decoded = WitMotionDecoder().decode(packet)
    assert decoded.kind == "reply" and decoded.acc.shape == decoded.gyro.shape == (0, 3)
    (reply,) = decoded.info["registers"]
    assert reply["start_register"] == expected["start_register"]
    assert reply["values"][:3] == [expected["hx"], expected["hy"], expected["hz"]]
    assert reply["values"][3:] == [0] * 5
    assert encode_register_reply(0x3A, reply["values"][:3]) == packet


def test_sample_vectors():
    vector = _vector("wit_0x61_synthetic")
    assert vector["settings"]["acc_full_scale_g"] == 16 and vector["settings"]["gyro_full_scale_dps"] == 2000
    for packet, expected in zip(_synthetic_packets(), vector["expected"]["constructed"]):
        decoded = WitMotionDecoder().decode(packet)
        assert decoded.kind == "data" and decoded.device_time_s is None and decoded.counter is None
        np.testing.assert_allclose(decoded.acc[0], np.array(expected["acc_g"]) * STANDARD_GRAVITY, rtol=1e-12)
        np.testing.assert_allclose(decoded.gyro[0], np.radians(expected["gyro_dps"]), rtol=1e-12)
        np.testing.assert_allclose(decoded.info["angles_deg"][0], expected["angle_deg"], atol=1e-6)
        assert decoded.info["skipped_bytes"] == 0 and decoded.info["registers"] == []
        acc_g, gyro_dps = np.array(expected["acc_g"]), np.array(expected["gyro_dps"])
        assert encode_sample(acc_g * STANDARD_GRAVITY, np.radians(gyro_dps), expected["angle_deg"]) == packet


def test_several_packets_in_one_notification():
    a, b = _synthetic_packets()
    reply = encode_register_reply(0x51, [1, -2, 3, -4])
    decoded = WitMotionDecoder().decode(a + reply + b)
    assert decoded.acc.shape == (2, 3) and decoded.kind == "data"
    assert decoded.info["registers"] == [{"start_register": 0x51, "values": [1, -2, 3, -4, 0, 0, 0, 0]}]


def test_every_split_point_gives_the_whole_packets():
    a, b = _synthetic_packets()
    # a packet whose values all read 55 61 on the wire: any split lands on something header-like
    tricky = bytes([0x55, 0x61]) + bytes([0x55, 0x61]) * 9
    reference = _stack([WitMotionDecoder().decode(p) for p in (a, tricky, b)])
    stream = a + tricky + b
    for cut in range(1, len(stream)):
        for second in (cut + 1, cut + 7, len(stream)):
            decoder = WitMotionDecoder()
            chunks = [c for c in (stream[:cut], stream[cut:second], stream[second:]) if c]
            out = [decoder.decode(c) for c in chunks]
            got = _stack(out)
            for x, y in zip(got, reference):
                np.testing.assert_array_equal(x, y)
            assert decoder.skipped_bytes == 0 and decoder.malformed_fragments == 0 and decoder.pending_bytes == 0


def test_junk_between_packets_keeps_the_good_samples():
    a, b = _synthetic_packets()
    decoder = WitMotionDecoder()
    decoded = decoder.decode(b"\x00\x55\x00" + a + b"\x01\x02\x55\x55" + b + b"\xaa")
    assert decoded.acc.shape == (2, 3)
    assert decoded.info["skipped_bytes"] == 3 + 4 + 1 and decoded.info["malformed_fragments"] == 3
    assert decoder.malformed_fragments == 3 and decoder.skipped_bytes == 8
    # a lone 55 at the end may be a header: it waits
    decoded = decoder.decode(a + b"\x55")
    assert decoded.acc.shape == (1, 3) and decoder.pending_bytes == 1 and decoded.info["skipped_bytes"] == 0


def test_truncated_packet_followed_by_a_good_one_is_dropped():
    a, b = _synthetic_packets()
    for keep in range(1, 20):
        decoder = WitMotionDecoder()
        first = decoder.decode(a[:keep])  # only the first `keep` bytes of a arrived
        assert first.acc.shape == (0, 3) and decoder.pending_bytes == keep
        decoded = decoder.decode(b + a)
        np.testing.assert_array_equal(decoded.acc, _stack([WitMotionDecoder().decode(p) for p in (b, a)])[0])
        assert decoded.info["truncated"] == 1 and decoded.info["skipped_bytes"] == keep
        assert decoder.malformed_fragments == 1 and decoder.pending_bytes == 0


def test_short_continuation_is_not_mistaken_for_truncation():
    a, _ = _synthetic_packets()
    tail = bytes([0x55, 0x71]) + bytes(6)  # the tail of a packet that happens to read 55 71
    packet = a[:12] + tail
    decoder = WitMotionDecoder()
    decoder.decode(packet[:12])
    decoded = decoder.decode(packet[12:])
    assert decoded.info["truncated"] == 0 and decoded.acc.shape == (1, 3)


def test_junk_only_notification_is_malformed_and_counted():
    a, _ = _synthetic_packets()
    decoder = WitMotionDecoder()
    stats = DecodeStats()
    assert stats.decode(decoder, b"\x00\x01\x02\x55\x00") is None
    assert stats.decode(decoder, b"") is None
    assert stats.malformed == 2 and stats.last_error == "empty notification"
    assert decoder.malformed_fragments == 1 and decoder.skipped_bytes == 5
    assert stats.decode(decoder, b"\x07" + a[:5]).acc.shape == (0, 3)  # junk + a partial: not malformed
    assert stats.decode(decoder, a[5:]).acc.shape == (1, 3)
    assert stats.packets == 2 and decoder.malformed_fragments == 2
    decoder.decode(a[:7])
    decoder.reset()
    assert decoder.pending_bytes == 0
    with pytest.raises(MalformedPacket, match="no WitMotion packet"):
        decoder.decode(b"\xff\xaa\x00")


def test_clipping_and_range():
    packet = encode_sample([1000.0, -1000.0, 0.0], [100.0, -100.0, 0.0], [180.0, -180.0, 0.0])
    decoded = WitMotionDecoder().decode(packet)
    np.testing.assert_allclose(decoded.acc[0], [32767 * ACC_SCALE, -16 * STANDARD_GRAVITY, 0])
    np.testing.assert_allclose(decoded.gyro[0], [32767 * GYRO_SCALE, -math.radians(2000), 0])
    np.testing.assert_allclose(decoded.info["angles_deg"][0], [32767 * ANGLE_SCALE, -180, 0])
    with pytest.raises(ValueError):
        encode_sample([np.nan, 0, 0], [0, 0, 0])
    with pytest.raises(ValueError):
        encode_register_reply(0x3A, [0] * 9)


_acc = st.floats(-16 * STANDARD_GRAVITY, 16 * STANDARD_GRAVITY * 32767 / 32768, allow_nan=False)
_gyro = st.floats(-math.radians(2000), math.radians(2000) * 32767 / 32768, allow_nan=False)
_angle = st.floats(-180, 180 * 32767 / 32768, allow_nan=False)
_sample = st.tuples(st.tuples(_acc, _acc, _acc), st.tuples(_gyro, _gyro, _gyro), st.tuples(_angle, _angle, _angle))


@settings(max_examples=150, deadline=None)
@given(samples=st.lists(_sample, min_size=1, max_size=6))
def test_round_trip(samples):
    decoded = WitMotionDecoder().decode(b"".join(encode_sample(*s) for s in samples))
    acc, gyro, angles = (np.array([s[k] for s in samples]) for k in range(3))
    np.testing.assert_allclose(decoded.acc, acc, rtol=0, atol=ACC_SCALE / 2 * 1.000001)
    np.testing.assert_allclose(decoded.gyro, gyro, rtol=0, atol=GYRO_SCALE / 2 * 1.000001)
    np.testing.assert_allclose(decoded.info["angles_deg"], angles, rtol=0, atol=ANGLE_SCALE / 2 * 1.000001)


_packet = st.one_of(
    st.binary(min_size=18, max_size=18).map(lambda body: bytes([0x55, 0x61]) + body),
    st.tuples(st.integers(0, 0xFFFF), st.lists(st.integers(-32768, 32767), max_size=8)).map(
        lambda r: encode_register_reply(*r)),
)


@settings(max_examples=120, deadline=None)
@given(packets=st.lists(_packet, min_size=1, max_size=8), cuts=st.lists(st.integers(1, 159), max_size=12))
def test_any_chunking_of_a_clean_stream_gives_the_same_samples(packets, cuts):
    stream = b"".join(packets)
    bounds = sorted({c for c in cuts if c < len(stream)} | {0, len(stream)})
    decoder = WitMotionDecoder()
    out = [decoder.decode(stream[lo:hi]) for lo, hi in zip(bounds, bounds[1:])]
    reference = _stack([WitMotionDecoder().decode(p) for p in packets])
    for x, y in zip(_stack(out), reference):
        if isinstance(x, list):
            assert x == y
        else:
            np.testing.assert_array_equal(x, y)
    assert decoder.skipped_bytes == 0 and decoder.pending_bytes == 0


@settings(max_examples=200, deadline=None)
@given(notifications=st.lists(st.binary(max_size=60), min_size=1, max_size=6), cut=st.integers(0, 40),
       flip=st.integers(0, 39), mask=st.integers(1, 255), extra=st.binary(max_size=25))
def test_fuzz_only_decoded_or_malformed(notifications, cut, flip, mask, extra):
    a, b = _synthetic_packets()
    good = a + b
    mutated = bytearray(good)
    mutated[flip] ^= mask
    stream = [*notifications, good[:cut], bytes(mutated), good + extra, extra + good, good[cut:]]
    decoder = WitMotionDecoder()
    stats = DecodeStats()
    seen = junk = 0
    for data in stream:
        before = decoder.pending_bytes
        decoded = stats.decode(decoder, data)
        seen += 1
        junk += 0 if decoded is None else decoded.info["malformed_fragments"]
        assert 0 <= decoder.pending_bytes < 20
        if decoded is None:
            assert decoder.pending_bytes == (before if not data else 0)
            continue
        n = len(decoded.acc)
        assert decoded.acc.shape == decoded.gyro.shape == decoded.info["angles_deg"].shape == (n, 3)
        assert (n + len(decoded.info["registers"])) * 20 <= before + len(data)
        assert np.isfinite(decoded.acc).all() and (np.abs(decoded.gyro) <= math.radians(2000)).all()
    # every notification counted once, and the junk inside accepted ones as malformed too
    assert stats.packets + stats.malformed - junk == seen
    # after any garbage, a clean packet behind a fresh notification boundary decodes again
    decoder.reset()
    assert decoder.decode(a).acc.shape == (1, 3)
