"""Polar PMD decoder: every vector of shared/vectors/polar_pmd.json, encoder round trips, malformed frames, fuzz."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gaitmon.consts import STANDARD_GRAVITY
from gaitmon.sensors.decoder import DecodedPacket, DecodeStats, MalformedPacket
from gaitmon.sensors.polar.protocol import (ACC, CONTROL_POINT_UUID, DATA_UUID, ECG, GYRO, SDK_MODE, SERVICE_UUID,
                                    VERITY_GYRO_FACTOR, PolarControlPointDecoder, PolarPmdDecoder, counts_to_si,
                                    decode_delta_content, encode_frame, get_sdk_mode_settings_command,
                                    get_settings_command, missing_samples, parse_control_point_reply,
                                    parse_feature_bitmap, parse_settings, sample_timestamps_ns,
                                    sdk_mode_start_command, sdk_mode_stop_command, si_to_counts, start_command,
                                    stop_command)
from tests.conftest import load_vectors

MG = STANDARD_GRAVITY / 1000.0


@pytest.fixture(scope="module")
def family():
    return load_vectors("polar_pmd")


@pytest.fixture(scope="module")
def vectors(family):
    return {vector["id"]: vector for vector in family["vectors"]}


def packets(vector):
    return [bytes.fromhex(p) for p in vector["packets"]]


def test_every_vector_is_covered(vectors):
    assert set(vectors) == {"pmd_acc_raw_type1_16bit_mg", "pmd_acc_delta_type0_factor",
                            "pmd_acc_delta_content_only_short", "pmd_gyro_delta_type0", "pmd_settings_tlv",
                            "pmd_cp_response", "pmd_verity_acc_start_command_observed",
                            "pmd_h10_acc_start_command_constructed", "pmd_acc_delta_type1_16bit",
                            "pmd_gyro_delta_type1_float32"}


def test_uuids(family):
    assert (SERVICE_UUID, CONTROL_POINT_UUID, DATA_UUID) == (
        family["uuids"]["service"], family["uuids"]["control_point"], family["uuids"]["data"])


# ---- data frames -----------------------------------------------------------------------------------


def test_acc_raw_type1_vector(vectors):
    vector = vectors["pmd_acc_raw_type1_16bit_mg"]
    setup, documented, derived = vector["settings"], vector["expected"]["documented"], vector["expected"]["derived"]
    packet = PolarPmdDecoder(ACC, setup["sample_rate_hz"], factor=setup["factor"]).decode(packets(vector)[0])
    assert packet.info["frame_type"] == setup["frame_type_byte"] and packet.info["compressed"] is False
    assert packet.info["n"] == documented["n_samples"] and packet.acc.shape == (36, 3) and packet.gyro is None
    assert packet.info["timestamp_ns"] == documented["frame_timestamp_ns"]
    assert packet.device_time_s == documented["frame_timestamp_ns"] / 1e9
    mg = np.rint(packet.acc / MG).astype(int)
    assert mg[0].tolist() == documented["sample0_mg"] and mg[1].tolist() == documented["sample1_mg"]
    assert mg.tolist() == derived["samples_mg"] == packet.info["counts"].tolist()
    stamps = sample_timestamps_ns(packet.info["timestamp_ns"], packet.info["n"], setup["sample_rate_hz"],
                                  setup["previous_frame_timestamp_ns"])
    assert stamps.tolist() == derived["sample_timestamps_ns"]
    assert int(stamps[-1]) == documented["last_sample_timestamp_ns"]


def test_acc_delta_type0_with_factor_vector(vectors):
    vector = vectors["pmd_acc_delta_type0_factor"]
    setup, documented, derived = vector["settings"], vector["expected"]["documented"], vector["expected"]["derived"]
    packet = PolarPmdDecoder(ACC, 52, factor=setup["factor"]).decode(packets(vector)[0])
    assert (packet.info["frame_type"], packet.info["compressed"]) == (0, True)
    assert packet.info["n"] == documented["n_samples"] == len(packet.acc)
    counts = packet.info["counts"]
    assert counts[0].tolist() == documented["raw_sample0"] and counts[1].tolist() == documented["raw_sample1"]
    assert counts.tolist() == derived["raw_samples"]
    # The SDK reports milli-g truncated to int: samples × factor (g) × 1000.
    mg = np.trunc(packet.acc / MG).astype(int)
    assert mg[0].tolist() == documented["mg_sample0"] and mg[1].tolist() == documented["mg_sample1"]
    assert mg.tolist() == derived["mg_samples_factor_times_1000"]
    assert np.trunc(packet.info["native"]).astype(int).tolist() == mg.tolist()
    assert packet.info["native_unit"] == "mG"
    assert np.abs(mg).max() <= documented["all_abs_mg_le"] == setup["range_g"] * 1000
    stamps = sample_timestamps_ns(packet.info["timestamp_ns"], packet.info["n"], 52,
                                  setup["previous_frame_timestamp_ns"])
    assert int(stamps[0]) == documented["first_sample_timestamp_ns"]
    assert int(stamps[-1]) == documented["last_sample_timestamp_ns"] == packet.info["timestamp_ns"]


def test_acc_delta_type1_vector(vectors):
    vector = vectors["pmd_acc_delta_type1_16bit"]
    setup, documented = vector["settings"], vector["expected"]["documented"]
    packet = PolarPmdDecoder(ACC, 52, factor=setup["factor"]).decode(packets(vector)[0])
    assert packet.info["frame_byte"] == 0x81 and packet.info["n"] == 2
    assert packet.info["native"].tolist() == documented["samples_mg"]
    np.testing.assert_allclose(packet.acc, np.array(documented["samples_mg"]) * MG, rtol=1e-15)
    stamps = sample_timestamps_ns(packet.info["timestamp_ns"], 2, 52, setup["previous_frame_timestamp_ns"])
    assert stamps.tolist() == documented["sample_timestamps_ns"]


def test_delta_content_only_vector_is_truncated(vectors):
    """The SDK's "Short" array ends inside its second delta block (22 of 90 bytes).

    Strict decoding refuses it. The vector's derived 63 samples are what zero-padding the missing
    68 bytes gives; salvage mode keeps only the 47 samples the bytes really hold.
    """
    vector = vectors["pmd_acc_delta_content_only_short"]
    setup, derived = vector["settings"], np.array(vector["expected"]["derived"]["raw_samples"])
    content = packets(vector)[0]
    with pytest.raises(MalformedPacket, match="needs 90 bytes"):
        decode_delta_content(content, setup["channels"], setup["resolution_bits"])
    salvaged = decode_delta_content(content, setup["channels"], setup["resolution_bits"], strict=False)
    assert salvaged[0, 0] == vector["expected"]["documented"]["sample0_channel0"]
    assert len(salvaged) == 47 and salvaged.tolist() == derived[:47].tolist()
    padded = decode_delta_content(content + bytes(68), setup["channels"], setup["resolution_bits"])
    assert len(padded) == vector["expected"]["derived"]["n_samples"] and padded.tolist() == derived.tolist()


def test_gyro_delta_type0_vector(vectors):
    vector = vectors["pmd_gyro_delta_type0"]
    setup, documented = vector["settings"], vector["expected"]["documented"]
    packet = PolarPmdDecoder(GYRO, 52, factor=setup["factor"]).decode(packets(vector)[0])
    assert packet.acc is None and packet.info["native_unit"] == "deg/s"
    assert packet.info["native"].tolist() == documented["samples_dps"]
    np.testing.assert_allclose(np.degrees(packet.gyro), documented["samples_dps"], rtol=1e-14)
    assert packet.info["timestamp_ns"] == documented["last_sample_timestamp_ns"] == 2**63 - 1
    stamps = sample_timestamps_ns(packet.info["timestamp_ns"], 2, 52, setup["previous_frame_timestamp_ns"])
    assert int(stamps[-1]) == documented["last_sample_timestamp_ns"]


@pytest.mark.parametrize("factor, key", [(1.0, "factor_1_0"), (0.5, "factor_0_5")])
def test_gyro_delta_type1_float_vector(vectors, factor, key):
    vector = vectors["pmd_gyro_delta_type1_float32"]
    documented = vector["expected"]["documented"][key]
    packet = PolarPmdDecoder(GYRO, 52, factor=factor).decode(packets(vector)[0])
    assert packet.info["frame_byte"] == 0x81 and packet.info["n"] == 2
    assert packet.info["native"].tolist() == documented["samples_dps"]
    np.testing.assert_allclose(np.degrees(packet.gyro), documented["samples_dps"], rtol=1e-14)
    if "sample1_bitpatterns_hex" in documented:
        assert [hex(int(p)) for p in packet.info["counts"][1]] == documented["sample1_bitpatterns_hex"]
        assert packet.info["timestamp_ns"] == documented["last_sample_timestamp_ns"]


# ---- control point ---------------------------------------------------------------------------------


def test_settings_tlv_vector(vectors):
    vector = vectors["pmd_settings_tlv"]
    assert parse_settings(packets(vector)[0]) == vector["expected"]["documented"]


def test_cp_response_vector(vectors):
    vector = vectors["pmd_cp_response"]
    documented = vector["expected"]["documented"]
    data = packets(vector)[0]
    assert data[0] == documented["response_code"]
    reply = parse_control_point_reply(data)
    assert f"{reply.op_name} ({reply.op})" == documented["op_code"]
    assert f"{reply.type_name} ({reply.measurement_type})" == documented["measurement_type"]
    assert f"{reply.status_text} ({reply.status})" == documented["status"]
    assert reply.more is documented["more"] and reply.parameters.hex() == documented["parameters_hex"]
    assert reply.settings is None and reply.factor is None  # "ff ff ff" is no valid TLV
    packet = PolarControlPointDecoder().decode(data)
    assert packet.kind == "reply" and packet.info["event"] == "response" and packet.info["reply"] == reply


def test_verity_start_command_and_reply_vector(vectors):
    vector = vectors["pmd_verity_acc_start_command_observed"]
    setup, documented = vector["settings"], vector["expected"]["documented"]
    command, reply_bytes = packets(vector)
    built = start_command(ACC, setup["sample_rate_hz"], setup["resolution_bits"], setup["range_g"], setup["channels"])
    assert built == command
    assert documented["command_fields"]["op"] == f"REQUEST_MEASUREMENT_START ({command[0]})"
    assert documented["command_fields"]["type"] == f"ACC ({command[1]})"
    fields = {key.lower(): value for key, value in documented["command_fields"]["settings"].items()}
    assert parse_settings(command[2:]) == {"sample_rate_hz": [fields["sample_rate"]],
                                           "resolution_bits": [fields["resolution"]],
                                           "range": [fields["range"]], "channels": [fields["channels"]]}
    reply = parse_control_point_reply(reply_bytes)
    assert (reply.op, reply.measurement_type, reply.status, int(reply.more)) == tuple(documented["response"].values())
    assert reply.ok and reply.factor is None
    first = encode_frame(ACC, 1, np.zeros((2, 3), dtype=np.int16))
    assert first[9] == int(documented["first_data_frame_type_byte"], 16)


def test_h10_commands_vector(vectors):
    vector = vectors["pmd_h10_acc_start_command_constructed"]
    constructed = vector["expected"]["constructed"]
    start, stop, get = packets(vector)
    spec = constructed["start"]
    assert start_command(spec["type"], spec["SAMPLE_RATE"], spec["RESOLUTION"], spec["RANGE"]) == start
    assert stop_command(constructed["stop"]["type"]) == stop
    assert get_settings_command(constructed["get_settings"]["type"]) == get


def test_sdk_mode_commands_and_rejections():
    assert sdk_mode_start_command() == bytes([0x02, SDK_MODE]) == b"\x02\x09"
    assert sdk_mode_stop_command() == b"\x03\x09" and get_sdk_mode_settings_command(GYRO) == b"\x04\x05"
    assert start_command(GYRO, 416, 16, 2000, 3) == bytes.fromhex("0205" "0001a001" "01011000" "0201d007" "040103")
    for bad in (lambda: start_command(ACC, 70000, 16, 8), lambda: start_command(ACC, 52, 16, 8, 256),
                lambda: stop_command(64)):
        with pytest.raises(ValueError):
            bad()


def test_start_reply_with_factor_and_error_replies():
    factor_tlv = bytes([5, 1]) + np.float32(VERITY_GYRO_FACTOR).tobytes()
    reply = parse_control_point_reply(bytes([0xF0, 2, GYRO, 0, 0]) + factor_tlv)
    assert reply.ok and reply.factor == VERITY_GYRO_FACTOR == 2000 / 32768
    assert PolarPmdDecoder(GYRO, 416, factor=reply.factor).factor == reply.factor
    error = parse_control_point_reply(bytes([0xF0, 2, ACC, 12]))
    assert not error.ok and error.status_text == "ERROR_INVALID_STATE" and error.parameters == b""
    partial = parse_control_point_reply(bytes([0xF0, 1, ACC, 0, 1, 0, 1]))
    assert partial.more and partial.settings is None
    odd = parse_control_point_reply(bytes([0xF0, 99, 40, 200]))
    assert odd.op_name == "UNKNOWN_OP_99" and odd.status_text == "UNKNOWN_STATUS_200"


def test_stop_notification_and_features():
    packet = PolarControlPointDecoder().decode(bytes([0x01, ACC, GYRO]))
    assert packet.kind == "reply" and packet.info["event"] == "measurement_stopped"
    assert packet.info["measurement_types"] == [ACC, GYRO] and packet.info["type_names"] == ["ACC", "GYRO"]
    for bad in (b"", b"\x01", b"\xf0\x01\x02", b"\x42\x00\x00\x00"):
        with pytest.raises(MalformedPacket):
            PolarControlPointDecoder().decode(bad)
    assert parse_feature_bitmap(bytes([0x0F, 0x25, 0x02])) == {ECG, ACC, GYRO, SDK_MODE}


@pytest.mark.parametrize("tlv", [b"\x00", b"\x00\x01\x34", b"\x07\x01\x00\x00", b"\x05\x01\x00\x00\xc0\x7f",
                                 b"\x06\x01" + bytes(15)])
def test_malformed_settings(tlv):
    with pytest.raises(MalformedPacket):
        parse_settings(tlv)


def test_settings_factor_and_security():
    tlv = bytes([5, 1]) + np.float32(0.5).tobytes() + bytes([6, 1]) + bytes(range(16)) + bytes([3, 1, 0x40, 0x1F, 0, 0])
    assert parse_settings(tlv) == {"factor": [0.5], "security": [bytes(range(16))], "range_milliunit": [8000]}


# ---- time ------------------------------------------------------------------------------------------


def test_loss_detection_from_timestamps():
    step = round(36 * 1e9 / 52)
    assert missing_samples(1_000_000_000, 1_000_000_000 + step, 36, 52) == 0
    assert missing_samples(1_000_000_000, 1_000_000_000 + 2 * step, 36, 52) == 36  # one frame lost
    with pytest.raises(ValueError):
        sample_timestamps_ns(100, 2, 52, previous_timestamp_ns=100)
    with pytest.raises(ValueError):
        sample_timestamps_ns(101, 2, 52)  # first frame: the first sample would precede the epoch


# ---- encoder ---------------------------------------------------------------------------------------


def test_encoder_layout_matches_verity():
    samples = np.array([[-15, 20, 1008], [-20, 17, 1008]])
    frame = encode_frame(ACC, 0x65, samples)
    assert frame.hex() == "02650000000000000081f1ff1400f0030401db00"  # deltas -5 -3 0 in one 4-bit block
    decoded = PolarPmdDecoder(ACC, 52).decode(frame)
    assert decoded.info["counts"].tolist() == samples.tolist()
    gyro = encode_frame(GYRO, 7, np.array([[-22, 8, 13], [-23, 11, 16]]))
    assert gyro[9] == 0x80 and gyro[16:] == bytes([3, 1, 0xDF, 0x00])  # the SDK vector's block
    one = encode_frame(ACC, 5, np.array([[1, 2, 3]]))
    assert len(one) == 16 and PolarPmdDecoder(ACC, 52).decode(one).info["n"] == 1  # reference only
    long = encode_frame(ACC, 5, np.zeros((300, 3), dtype=int))
    assert long[16:18] == bytes([1, 255]) and PolarPmdDecoder(ACC, 52).decode(long).info["n"] == 300


def test_si_round_trip_with_factors():
    rng = np.random.default_rng(1)
    acc = rng.uniform(-15, 15, (30, 3)) * STANDARD_GRAVITY
    gyro = rng.uniform(-30, 30, (30, 3))  # rad/s, within ±2000 °/s
    acc_frame = encode_frame(ACC, 10**12, si_to_counts(acc, ACC))
    gyro_frame = encode_frame(GYRO, 10**12, si_to_counts(gyro, GYRO, VERITY_GYRO_FACTOR))
    np.testing.assert_allclose(PolarPmdDecoder(ACC, 416).decode(acc_frame).acc, acc, atol=0.5 * MG)
    decoded = PolarPmdDecoder(GYRO, 416, factor=VERITY_GYRO_FACTOR).decode(gyro_frame).gyro
    np.testing.assert_allclose(decoded, gyro, atol=0.5 * math.radians(VERITY_GYRO_FACTOR))
    saturated = si_to_counts(np.array([[100.0, -100.0, 0.0]]), GYRO, VERITY_GYRO_FACTOR)
    assert saturated.tolist() == [[32767, -32768, 0]]
    type0 = si_to_counts(np.array([[STANDARD_GRAVITY, 0, 0]]), ACC, 2.44e-4, frame_type=0)
    np.testing.assert_allclose(counts_to_si(type0, ACC, 2.44e-4, frame_type=0), [[STANDARD_GRAVITY, 0, 0]],
                               atol=2.44e-4 * STANDARD_GRAVITY)


def test_encoder_rejects_what_no_frame_holds():
    for bad in (lambda: encode_frame(ACC, 0, np.array([[40000, 0, 0]])),
                lambda: encode_frame(ACC, 0, np.zeros((2, 3)) + 0.5),
                lambda: encode_frame(ACC, 0, np.zeros((0, 3), dtype=int)),
                lambda: encode_frame(GYRO, 0, np.zeros((1, 3), dtype=int), compressed=False),
                lambda: encode_frame(GYRO, 0, np.full((1, 3), np.inf), frame_type=1),
                lambda: encode_frame(ACC, 2**64, np.zeros((1, 3), dtype=int)),
                lambda: PolarPmdDecoder(ACC, 52, factor=0.0), lambda: PolarPmdDecoder(6, 52)):
        with pytest.raises(ValueError):
            bad()


int16 = st.integers(-32768, 32767)


@settings(max_examples=60, deadline=None)
@given(samples=hnp.arrays(np.int64, st.tuples(st.integers(1, 40), st.just(3)), elements=int16),
       block=st.integers(1, 255))
def test_round_trip_int16(samples, block):
    for mtype in (ACC, GYRO):
        frame = encode_frame(mtype, 123_456_789, samples, block_size=block)
        packet = PolarPmdDecoder(mtype, 416).decode(frame)
        assert packet.info["counts"].tolist() == samples.tolist() and packet.info["n"] == len(samples)
    raw = PolarPmdDecoder(ACC, 200).decode(encode_frame(ACC, 1, samples, compressed=False))
    assert raw.info["counts"].tolist() == samples.tolist() and raw.info["frame_byte"] == 0x01
    np.testing.assert_allclose(raw.acc, samples * MG)


@settings(max_examples=40, deadline=None)
@given(samples=hnp.arrays(np.float32, st.tuples(st.integers(1, 40), st.just(3)),
                          elements=st.floats(allow_nan=False, allow_infinity=False, width=32)))
def test_round_trip_float_gyro(samples):
    packet = PolarPmdDecoder(GYRO, 52, factor=0.5).decode(encode_frame(GYRO, 9, samples, frame_type=1))
    assert packet.info["native"].tolist() == (samples.astype(np.float64) * 0.5).tolist()


@settings(max_examples=30, deadline=None)
@given(bits=st.sampled_from([8, 24]), data=st.data())
def test_round_trip_raw_acc_types(bits, data):
    limit = 1 << (bits - 1)
    samples = data.draw(hnp.arrays(np.int64, st.tuples(st.integers(1, 20), st.just(3)),
                                   elements=st.integers(-limit, limit - 1)))
    frame = encode_frame(ACC, 1, samples, compressed=False, frame_type={8: 0, 24: 2}[bits])
    assert PolarPmdDecoder(ACC, 52).decode(frame).info["counts"].tolist() == samples.tolist()


# ---- malformed -------------------------------------------------------------------------------------

HEAD_ACC = bytes.fromhex("02" "6500000000000000")
HEAD_GYRO = bytes.fromhex("05" "6500000000000000")
GOOD_DELTA = HEAD_ACC + bytes.fromhex("81" "f1ff1400f003" "06017b0f08")


@pytest.mark.parametrize("mtype, packet, message", [
    (ACC, b"", "shorter than the 10-byte"),
    (ACC, GOOD_DELTA[:9], "shorter than the 10-byte"),
    (GYRO, GOOD_DELTA, "measurement type 2"),
    (ACC, b"\x05" + GOOD_DELTA[1:], "measurement type 5"),
    (ACC, GOOD_DELTA[:-1], "needs 3 bytes"),
    (ACC, GOOD_DELTA + b"\x06", "trailing byte"),
    (ACC, GOOD_DELTA + b"\x06\x01", "needs 3 bytes"),
    (ACC, GOOD_DELTA[:10] + bytes(5), "shorter than its 6-byte reference"),
    (ACC, GOOD_DELTA[:16] + b"\x00\x01\x00", "bit width 0"),
    (ACC, GOOD_DELTA[:16] + b"\x21\x01" + bytes(13), "bit width 33"),
    (ACC, GOOD_DELTA[:16] + b"\x06\x00", "0 samples"),
    (ACC, HEAD_ACC + b"\x01", "no samples"),
    (ACC, HEAD_ACC + b"\x01" + bytes(7), "not a whole number"),
    (ACC, HEAD_ACC + b"\x03" + bytes(6), "frame byte 0x03"),
    (ACC, HEAD_ACC + b"\x82" + bytes(6), "frame byte 0x82"),
    (GYRO, HEAD_GYRO + b"\x01" + bytes(6), "frame byte 0x01"),  # GYRO is only sent compressed
    (GYRO, HEAD_GYRO + b"\x81" + bytes.fromhex("0000807f") + bytes(8), "non-finite"),
    (GYRO, HEAD_GYRO + b"\x81" + bytes.fromhex("0000c07f") + bytes(8), "non-finite"),
    (GYRO, HEAD_GYRO + b"\x81" + bytes.fromhex("0100807f") + bytes(8), "non-finite"),  # signalling NaN
    (GYRO, HEAD_GYRO + b"\x81" + bytes(12) + bytes.fromhex("2001") + bytes.fromhex("0000807f") + bytes(8),
     "non-finite"),  # a delta that walks 0.0 into +inf
])
def test_malformed_frames_are_counted_not_raised(mtype, packet, message):
    decoder = PolarPmdDecoder(mtype, 52)
    with pytest.raises(MalformedPacket, match=message):
        decoder.decode(packet)
    stats = DecodeStats()
    assert stats.decode(decoder, packet) is None
    assert stats.malformed == 1 and stats.packets == 0 and stats.last_error


VALID_FRAMES = {
    "sdk_acc_delta_type1": GOOD_DELTA,
    "acc_0x81_one_block": encode_frame(ACC, 2_000_000_000,
                                       np.array([[0, 0, 1000], [5, -7, 990], [300, -300, 1200]] * 9)),
    "acc_0x81_many_blocks": encode_frame(ACC, 7, np.arange(180).reshape(60, 3) * 91 - 8000, block_size=17),
    "acc_raw_type1": encode_frame(ACC, 7, np.array([[-9, -1, 999], [-8, -2, 997]]), compressed=False),
    "gyro_0x80": encode_frame(GYRO, 99, np.array([[-22, 8, 13], [-23, 11, 16], [400, -900, 32767]])),
    "gyro_0x81_float": encode_frame(GYRO, 99, np.array([[1.0, 10.0, 20.0], [10.0, 20.0, 1.1]], dtype=np.float32),
                                    frame_type=1),
}
VALID = list(VALID_FRAMES.values())
DECODERS = [PolarPmdDecoder(ACC, 52), PolarPmdDecoder(GYRO, 52, factor=VERITY_GYRO_FACTOR),
            PolarPmdDecoder(ACC, 52, factor=2.44e-4, resolution_bits=12), PolarControlPointDecoder()]


def _check(packet: DecodedPacket | None):
    if packet is None or packet.kind == "reply":
        return
    samples = packet.acc if packet.acc is not None else packet.gyro
    assert samples.shape == (packet.info["n"], 3) and packet.info["n"] >= 1
    assert np.isfinite(samples).all() and math.isfinite(packet.device_time_s)


@settings(max_examples=250, deadline=None)
@given(data=st.binary(max_size=300), which=st.integers(0, len(VALID) - 1), cut=st.integers(0, 400),
       flip=st.integers(0, 400), mask=st.integers(1, 255))
def test_fuzz_only_decoded_or_malformed(data, which, cut, flip, mask):
    good = VALID[which]
    mutated = bytearray(good)
    mutated[flip % len(good)] ^= mask
    candidates = [data, good[:cut], bytes(mutated), good + data, good[:10] + data, good[:1] + data]
    stats = DecodeStats()
    for decoder in DECODERS:
        for packet in candidates:
            _check(stats.decode(decoder, packet))  # anything but MalformedPacket escapes and fails here
    assert stats.packets + stats.malformed == len(candidates) * len(DECODERS)
    assert stats.malformed >= 1  # the CP decoder never takes good[:1] + data (first byte 0x02 or 0x05)


@pytest.mark.parametrize("good", VALID, ids=list(VALID_FRAMES))
def test_truncations_and_extensions(good):
    """A cut frame decodes to a prefix of the samples or is malformed; a delta frame with extra bytes is malformed."""
    decoder = next(d for d in DECODERS[:2] if d.measurement_type == good[0])
    full = decoder.decode(good).info["counts"]
    stats = DecodeStats()
    for k in range(len(good)):
        packet = stats.decode(decoder, good[:k])
        if packet is not None:
            assert packet.info["counts"].tolist() == full[:packet.info["n"]].tolist()
    assert stats.malformed >= len(good) // 2 and stats.packets + stats.malformed == len(good)
    extensions = [bytes([b]) for b in range(256)] + [bytes([w, c]) for w in (0, 1, 8, 32, 33, 255) for c in (0, 1, 255)]
    if good[9] & 0x80:
        assert all(stats.decode(decoder, good + extra) is None for extra in extensions)
    else:
        assert all(stats.decode(decoder, good + bytes(m)) is None for m in range(1, 6))
