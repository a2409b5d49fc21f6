"""Vectorised ``decode_many`` of every family equals ``decode`` per payload, bit for bit.

The reference is :func:`gaitmon.sensors.decoder.batch_of_packets` (one ``decode`` per payload). Inputs are
streams mixing valid notifications of several layouts (so that each layout group holds several rows),
notifications mutated the way ``test_fuzz_decoders`` mutates them, NaN/inf words, random bytes, and the
packet vectors of ``tests/data/vectors`` and ``../shared/vectors``. Equal means: same kinds, counts,
samples, device times and counters (same bytes, dtype and shape; None where the reference has None),
same malformed fragments and the same ``MalformedPacket`` messages, and for WitMotion the same
reassembly state and counters afterwards.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.sensors.decoder import DecodedBatch, DecodeStats, batch_of_packets, decode_batch
from gaitmon.sensors.diy import protocol as diy
from gaitmon.sensors.movesense import protocol as movesense
from gaitmon.sensors.polar import protocol as polar
from gaitmon.sensors.witmotion import protocol as witmotion
from tests.conftest import load_vectors

STAMP_NS = 848_534_400 * 10**9


def assert_same(got: DecodedBatch, want: DecodedBatch) -> None:
    for name in ("kind", "acc_count", "gyro_count", "acc", "gyro", "device_time_s", "counter", "fragments"):
        a, b = getattr(got, name), getattr(want, name)
        if b is None:
            assert a is None, name
            continue
        assert a is not None, name
        assert (a.dtype, a.shape) == (b.dtype, b.shape), name
        assert a.tobytes() == b.tobytes(), name
    assert got.errors == want.errors


def _diy(rng: np.random.Generator, layout: int) -> bytes:
    if layout % 7 == 6:
        return [bytes([0x81, 0]), bytes([0x83, 0, 0xE8, 0x03, 3, 3, 87, 0]), bytes([0x82, 4])][layout % 3]
    n = 1 + layout % diy.MAX_SAMPLES
    return diy.encode_data(int(rng.integers(1 << 16)), int(rng.integers(1 << 32)), rng.normal(0, 60, (n, 3)),
                           rng.normal(0, 20, (n, 3)), diy.ACC_RANGES_G[layout % 4], diy.GYRO_RANGES_DPS[layout // 4 % 4])


def _movesense(rng: np.random.Generator, layout: int) -> bytes:
    if layout % 7 == 6:
        return [movesense.encode_command_result(99, 507), movesense.encode_hello_reply(99),
                movesense.encode_command_result(98, 200)][layout % 3]
    n = 1 + layout % movesense.MAX_IMU6_SAMPLES
    return movesense.encode_imu6(99 if layout % 5 else 98, int(rng.integers(1 << 32)), rng.normal(0, 60, (n, 3)),
                                 rng.normal(0, 20, (n, 3)))


def _polar(measurement_type: int):
    def make(rng: np.random.Generator, layout: int) -> bytes:
        n = 1 + layout % 37
        stamp = STAMP_NS + int(rng.integers(1 << 40))
        if measurement_type == polar.GYRO and layout % 3 == 2:  # compressed type 1: float32 patterns
            return polar.encode_frame(polar.GYRO, stamp, rng.normal(0, 300, (n, 3)).astype(np.float32), frame_type=1)
        scale = 1.0 if measurement_type == polar.ACC else polar.VERITY_GYRO_FACTOR
        counts = polar.si_to_counts(rng.normal(0, 40 if measurement_type == polar.ACC else 8, (n, 3)),
                                    measurement_type, scale)
        if layout % 5 == 4:  # several delta blocks
            return polar.encode_frame(measurement_type, stamp, counts, block_size=1 + layout % 6)
        if measurement_type == polar.ACC and layout % 5 == 3:  # uncompressed int8 / int16 / int24
            frame_type = layout % 3
            limit = 1 << (8 * (frame_type + 1) - 1)
            return polar.encode_frame(polar.ACC, stamp, np.clip(counts, -limit, limit - 1), compressed=False,
                                      frame_type=frame_type)
        if measurement_type == polar.ACC and layout % 11 == 10:  # compressed type 0 (g × factor)
            return polar.encode_frame(polar.ACC, stamp, counts, frame_type=0)
        return polar.encode_frame(measurement_type, stamp, counts)
    return make


def _witmotion(rng: np.random.Generator, layout: int) -> bytes:
    packets = [witmotion.encode_sample(rng.normal(0, 60, 3), rng.normal(0, 20, 3), rng.uniform(-179, 179, 3))
               for _ in range(1 + layout % 4)]
    if layout % 9 == 8:
        packets.append(witmotion.encode_register_reply(int(rng.integers(0x60)), rng.integers(-9, 9, 4).tolist()))
    return b"".join(packets)


#: family → (valid notification maker, fresh decoders to compare)
FAMILIES = {
    "gaitmon_diy": (_diy, lambda: [diy.GaitmonProfileDecoder(1000.0), diy.GaitmonProfileDecoder(833.0)]),
    "movesense": (_movesense, lambda: [movesense.MovesenseDecoder(208.0, client_ref=99)]),
    "polar acc": (_polar(polar.ACC), lambda: [polar.PolarPmdDecoder(polar.ACC, 416.0),
                                              polar.PolarPmdDecoder(polar.ACC, 52.0, factor=polar.ACC_TYPE0_FACTOR_8G)]),
    "polar gyro": (_polar(polar.GYRO), lambda: [polar.PolarPmdDecoder(polar.GYRO, 416.0, factor=polar.VERITY_GYRO_FACTOR),
                                                polar.PolarPmdDecoder(polar.GYRO, 416.0, factor=1e37)]),
    "witmotion": (_witmotion, lambda: [witmotion.WitMotionDecoder(200.0)]),
}


@st.composite
def notifications(draw, make) -> list[bytes]:
    """A stream: valid notifications of a few layouts, some mutated, some random, some cut and re-split."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    layouts = draw(st.lists(st.integers(0, 200), min_size=1, max_size=4))
    out = []
    for _ in range(draw(st.integers(0, 40))):
        what = draw(st.integers(0, 9))
        data = bytearray(make(rng, layouts[int(rng.integers(len(layouts)))]))
        if what == 7:  # mutate 1–3 times
            for _ in range(draw(st.integers(1, 3))):
                op, at = draw(st.integers(0, 5)), int(rng.integers(len(data) + 1))
                if op == 0 and at < len(data):
                    data[at] ^= 1 << draw(st.integers(0, 7))
                elif op == 1 and at < len(data):
                    data[at] = draw(st.integers(0, 255))
                elif op == 2:
                    del data[at:]
                elif op == 3:
                    data += draw(st.binary(min_size=1, max_size=24))
                elif op == 4:  # a NaN or inf float32 word
                    data[at:at + 4] = draw(st.sampled_from([b"\xff\xff\xff\x7f", b"\x00\x00\x80\x7f", b"\x00\x00\x80\xff"]))
                else:
                    other = make(rng, layouts[0])
                    data[at:] = other[int(rng.integers(len(other) + 1)):]
        elif what == 8:
            data = bytearray(draw(st.binary(max_size=80)))
        elif what == 9 and out:  # the previous notification split in two (WitMotion carries the rest)
            previous = out.pop()
            cut = int(rng.integers(len(previous) + 1))
            out.append(previous[:cut])
        out.append(bytes(data))
    return out


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_decode_many_equals_decode_per_payload(family):
    make, fresh = FAMILIES[family]

    @settings(deadline=None, max_examples=150, database=None)
    @given(payloads=notifications(make), carried=st.binary(max_size=19))
    def run(payloads, carried):
        for batched, reference in zip(fresh(), fresh()):
            if isinstance(batched, witmotion.WitMotionDecoder) and carried:  # start with a partial packet pending
                for decoder in (batched, reference):
                    DecodeStats().decode(decoder, b"\x55\x61" + carried[:17])
            assert_same(decode_batch(batched, payloads), batch_of_packets(reference, payloads))
            assert vars(batched) == vars(reference)  # WitMotion: the same state and counters afterwards

    run()


def test_decode_many_of_long_clean_streams():
    """Thousands of valid notifications of one layout (the vectorised path) and a few odd ones."""
    rng = np.random.default_rng(7)
    for family, (make, fresh) in FAMILIES.items():
        payloads = [make(rng, 9) for _ in range(3000)] + [make(rng, 20), b"", make(rng, 9)[:-1], make(rng, 9)]
        for batched, reference in zip(fresh(), fresh()):
            got = batched.decode_many(payloads)
            assert_same(got, batch_of_packets(reference, payloads))
            assert (got.kind == 0).sum() >= 3000, family


VECTOR_DECODERS = {
    "diy": lambda settings: [diy.GaitmonProfileDecoder(1000.0)],
    "movesense": lambda settings: [movesense.MovesenseDecoder(settings.get("sample_rate_hz", 104), client_ref=ref)
                                   for ref in (0x63, 99, 1)],
    "polar_pmd": lambda settings: [polar.PolarPmdDecoder(mtype, settings.get("sample_rate_hz", 52),
                                                         factor=settings.get("factor") or 1.0)
                                   for mtype in (polar.ACC, polar.GYRO)],
    "witmotion": lambda settings: [witmotion.WitMotionDecoder(200.0)],
}


@pytest.mark.parametrize("name", sorted(VECTOR_DECODERS))
def test_decode_many_on_the_packet_vectors(name):
    vectors = load_vectors(name)["vectors"]
    payloads = [bytes.fromhex(packet) for vector in vectors for packet in vector["packets"]]
    for vector in vectors:
        for batched, reference in zip(VECTOR_DECODERS[name](vector["settings"]), VECTOR_DECODERS[name](vector["settings"])):
            stream = payloads * 3 + [bytes.fromhex(p) for p in vector["packets"]] * 4
            assert_same(batched.decode_many(stream), batch_of_packets(reference, stream))
