"""DIY boards: the open gaitmon GATT profile, and the Arduino Science Journal layout.

The gaitmon profile (``firmware_notes/gaitmon-gatt-profile.md`` is the full specification) carries
several int16 samples per notification with a sample counter and a device microsecond clock, so
losses are countable and timing is exact. The Science Journal "BLESense" firmware (Arduino Nano 33
BLE Sense) sends acc and gyro as separate 3 × float32 notifications with no time at all.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from gaitmon.consts import STANDARD_GRAVITY
from gaitmon.sensors.decoder import (DecodedBatch, DecodedPacket, LayoutGroup, MalformedPacket, assemble_batch,
                                    by_length, column, decode_rest)

SERVICE_UUID = "6a1f0001-6b2c-4d7e-9a10-3c5e8f2b7d41"
DATA_UUID = "6a1f0002-6b2c-4d7e-9a10-3c5e8f2b7d41"
CONTROL_UUID = "6a1f0003-6b2c-4d7e-9a10-3c5e8f2b7d41"
INFO_UUID = "6a1f0004-6b2c-4d7e-9a10-3c5e8f2b7d41"

PROFILE_VERSION = 1
HEADER = struct.Struct("<BBHIBB")  # version, flags, counter, time_us, n, ranges
SAMPLE_BYTES = 12
MAX_SAMPLES = 19  # 10 + 19 × 12 = 238 bytes ≤ 244 (ATT MTU 247 − 3)

ACC_RANGES_G = (2.0, 4.0, 8.0, 16.0)
GYRO_RANGES_DPS = (250.0, 500.0, 1000.0, 2000.0)
#: SI units per count for each range code, the scalars :meth:`GaitmonProfileDecoder.decode` multiplies by.
_ACC_SCALES = np.array([g * STANDARD_GRAVITY / 32768.0 for g in ACC_RANGES_G])
_GYRO_SCALES = np.array([math.radians(dps) / 32768.0 for dps in GYRO_RANGES_DPS])

CMD_START, CMD_STOP, CMD_INFO = 0x01, 0x02, 0x03
REPLY_BIT = 0x80
STATUS_TEXT = {0: "ok", 1: "unsupported rate", 2: "unsupported range", 3: "busy", 4: "unknown command"}


def start_command(rate_hz: int, acc_range_g: float = 16.0, gyro_range_dps: float = 2000.0) -> bytes:
    """Control write that starts streaming at ``rate_hz`` with the given full-scale ranges."""
    if not 1 <= rate_hz <= 0xFFFF:
        raise ValueError(f"rate must be 1..65535 Hz, not {rate_hz}")
    return struct.pack("<BHBB", CMD_START, int(rate_hz), ACC_RANGES_G.index(acc_range_g),
                       GYRO_RANGES_DPS.index(gyro_range_dps))


def stop_command() -> bytes:
    return bytes([CMD_STOP])


def info_command() -> bytes:
    return bytes([CMD_INFO])


class GaitmonProfileDecoder:
    """Data and control-reply notifications of the gaitmon GATT profile.

    Parameters
    ----------
    sample_rate_hz : float
        The streaming rate the board was started at (spaces the samples of one notification
        when the device clock is used; the time of the first sample is in the header).
    """

    family = "gaitmon_diy"

    def __init__(self, sample_rate_hz: float):
        self.sample_rate_hz = float(sample_rate_hz)

    def decode(self, data: bytes) -> DecodedPacket:
        if not data:
            raise MalformedPacket("empty notification")
        if data[0] & REPLY_BIT:
            return _decode_reply(data)
        if len(data) < HEADER.size:
            raise MalformedPacket(f"{len(data)} bytes is shorter than the {HEADER.size}-byte header")
        version, flags, counter, time_us, n, ranges = HEADER.unpack_from(data)
        if version != PROFILE_VERSION:
            raise MalformedPacket(f"profile version {version}, expected {PROFILE_VERSION}")
        if not 1 <= n <= MAX_SAMPLES:
            raise MalformedPacket(f"sample count {n} outside 1..{MAX_SAMPLES}")
        if len(data) != HEADER.size + n * SAMPLE_BYTES:
            raise MalformedPacket(f"{len(data)} bytes for {n} samples, expected {HEADER.size + n * SAMPLE_BYTES}")
        acc_code, gyro_code = ranges & 0x0F, ranges >> 4
        if acc_code >= len(ACC_RANGES_G) or gyro_code >= len(GYRO_RANGES_DPS):
            raise MalformedPacket(f"unknown range codes acc {acc_code} gyro {gyro_code}")
        raw = np.frombuffer(data, dtype="<i2", offset=HEADER.size).reshape(n, 6).astype(np.float64)
        acc = raw[:, :3] * (ACC_RANGES_G[acc_code] * STANDARD_GRAVITY / 32768.0)
        gyro = raw[:, 3:] * (math.radians(GYRO_RANGES_DPS[gyro_code]) / 32768.0)
        last_us = time_us + (n - 1) * 1e6 / self.sample_rate_hz
        return DecodedPacket(acc=acc, gyro=gyro, device_time_s=last_us / 1e6, counter=counter,
                             info={"flags": flags, "n": n, "first_time_us": time_us})

    def decode_many(self, payloads) -> DecodedBatch:
        """:func:`~gaitmon.sensors.decoder.decode_batch` of many notifications, equal bit for bit to
        :meth:`decode` of each: data notifications of one length (one sample count) in one numpy pass;
        replies and anything that fails a check go through :meth:`decode` (which says what is wrong)."""
        groups = []
        for length, (rows, matrix) in by_length(payloads)[1].items():
            n, rest = divmod(length - HEADER.size, SAMPLE_BYTES)
            if rest or not 1 <= n <= MAX_SAMPLES:
                continue
            acc_code, gyro_code = matrix[:, 9] & 0x0F, matrix[:, 9] >> 4
            ok = ((matrix[:, 0] == PROFILE_VERSION) & (matrix[:, 8] == n) & (acc_code < len(ACC_RANGES_G))
                  & (gyro_code < len(GYRO_RANGES_DPS)))
            matrix, acc_code, gyro_code = matrix[ok], acc_code[ok], gyro_code[ok]
            raw = column(matrix, HEADER.size, "<i2", n * 6).reshape(-1, n, 6).astype(np.float64)
            last_us = column(matrix, 4, "<u4").astype(np.float64) + (n - 1) * 1e6 / self.sample_rate_hz
            groups.append(LayoutGroup(rows[ok], acc=raw[:, :, :3] * _ACC_SCALES[acc_code, None, None],
                                      gyro=raw[:, :, 3:] * _GYRO_SCALES[gyro_code, None, None],
                                      device_time_s=last_us / 1e6, counter=column(matrix, 2, "<u2").astype(np.int64)))
        return assemble_batch(len(payloads), groups, decode_rest(self, payloads, groups))


def _decode_reply(data: bytes) -> DecodedPacket:
    command = data[0] & ~REPLY_BIT
    if len(data) < 2:
        raise MalformedPacket("reply without status byte")
    status = data[1]
    info = {"command": command, "status": status, "status_text": STATUS_TEXT.get(status, f"status {status}")}
    if command == CMD_INFO and status == 0:
        if len(data) != 8:
            raise MalformedPacket(f"info reply of {len(data)} bytes, expected 8")
        rate, acc_code, gyro_code, battery, _ = struct.unpack_from("<HBBBB", data, 2)
        info.update(rate_hz=rate, acc_range_g=_lookup(ACC_RANGES_G, acc_code),
                    gyro_range_dps=_lookup(GYRO_RANGES_DPS, gyro_code), battery_pct=battery)
    elif len(data) != 2:
        raise MalformedPacket(f"reply to command {command} has {len(data)} bytes, expected 2")
    return DecodedPacket(kind="reply", info=info)


def _lookup(table, code):
    if code >= len(table):
        raise MalformedPacket(f"unknown range code {code}")
    return table[code]


class ScienceJournalDecoder:
    """Arduino Science Journal "BLESense" firmware: one characteristic per channel.

    Parameters
    ----------
    channel : {"acc", "gyro"}
        Which characteristic this decoder serves: acc (3 × float32 LE, g) or gyro (°/s).
    """

    family = "arduino_science_journal"
    SERVICE_UUID = "555a0002-0000-467a-9538-01f0652c74e8"
    CHARACTERISTICS = {"acc": "555a0002-0011-467a-9538-01f0652c74e8", "gyro": "555a0002-0012-467a-9538-01f0652c74e8"}

    def __init__(self, channel: str):
        if channel not in self.CHARACTERISTICS:
            raise ValueError(f"channel must be 'acc' or 'gyro', not {channel!r}")
        self.channel = channel

    def decode(self, data: bytes) -> DecodedPacket:
        if len(data) != 12:
            raise MalformedPacket(f"{len(data)} bytes, expected 12 (3 x float32)")
        raw = np.frombuffer(data, dtype="<f4")
        if not np.isfinite(raw).all():  # checked before the cast: casting a NaN pattern warns
            raise MalformedPacket("non-finite value")
        values = raw.astype(np.float64)
        if self.channel == "acc":
            return DecodedPacket(acc=values.reshape(1, 3) * STANDARD_GRAVITY, info={"raw": values.tolist()})
        return DecodedPacket(gyro=np.radians(values).reshape(1, 3), info={"raw": values.tolist()})


def encode_data(counter: int, first_time_us: int, acc_m_s2: np.ndarray, gyro_rad_s: np.ndarray,
                acc_range_g: float = 16.0, gyro_range_dps: float = 2000.0) -> bytes:
    """One data notification, as firmware (or the emulated sensor) builds it; values are clipped to range."""
    acc_code, gyro_code = ACC_RANGES_G.index(acc_range_g), GYRO_RANGES_DPS.index(gyro_range_dps)
    acc_counts = np.asarray(acc_m_s2, float) / (acc_range_g * STANDARD_GRAVITY / 32768.0)
    gyro_counts = np.asarray(gyro_rad_s, float) / (math.radians(gyro_range_dps) / 32768.0)
    counts = np.clip(np.rint(np.hstack([acc_counts, gyro_counts])), -32768, 32767).astype("<i2")
    n = len(counts)
    if not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"1..{MAX_SAMPLES} samples per notification, not {n}")
    header = HEADER.pack(PROFILE_VERSION, 0b11, counter & 0xFFFF, first_time_us & 0xFFFFFFFF, n,
                         acc_code | gyro_code << 4)
    return header + counts.tobytes()
