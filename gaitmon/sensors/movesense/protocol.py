"""Movesense sensors through the GATT SensorData Protocol (GSP) of the ``gatt_sensordata_app``.

GSP is a *custom* GATT service created by the ``gatt_sensordata_app`` sample of the Movesense
device library (new in device-lib 2.0); the sensor must run that app or a firmware that includes
it (``firmware_notes/movesense.md``). Facts below are from
``alexisduque/movesense-device-lib:samples/gatt_sensordata_app/GATTSensorDataClient.cpp`` and the
IMU6 value from ``meas/imu.yaml`` (see the protocol reference, section "(c) Movesense").

Commands (write to :data:`COMMAND_UUID`)
    ``[cmd u8, client_ref u8 (non-zero), data]``: ``0`` HELLO, ``1`` SUBSCRIBE (data = UTF-8
    resource path, e.g. ``/Meas/IMU6/208``), ``2`` UNSUBSCRIBE (the reference of the subscription).

Notifications (on :data:`DATA_UUID`)
    ``[resp_type u8, client_ref u8, …]``: ``1`` COMMAND_RESULT (HELLO answers the text ``"Hello"``;
    otherwise a uint16 HTTP-style status in bytes 2–3), ``2`` DATA (the SBEM-serialised value).

IMU6 data value
    ``02 ref | ts u32 LE | N × (3 × f32) acc m/s² | N × (3 × f32) gyro °/s`` with ``N = (len − 6) / 24``.
    ``ts`` is the sensor's local millisecond clock at the **first** sample of the notification.
    There is no packet counter.

Timing and loss
    Sample ``i`` of a notification was taken at ``ts + 1000·i/fs`` ms, so the decoder reports
    ``device_time_s = ts/1000 + (N − 1)/fs`` (the last sample) and keeps the raw ``ts`` in
    ``info["first_time_ms"]`` (u32, not unwrapped: it wraps after 2³² ms ≈ 49.7 days).
    **Loss rule**: consecutive DATA notifications of one subscription satisfy
    ``ts_k − ts_{k−1} ≈ 1000·N_{k−1}/fs`` ms; with millisecond resolution allow ±1 ms (plus the jitter
    older firmware shows under heavy BLE traffic). A larger step means
    ``round((ts_k − ts_{k−1})·fs/1000) − N_{k−1}`` samples were lost. The device-lib changelog lists
    "IMU9 Timestamp dont indicate data loss" as a known bug, so treat a missing step as "no loss
    seen", not as proof of none.

Status byte order
    The firmware builds the "no free subscription slot" result as ``{1, ref, 0x01, 0xFB}`` = 507,
    i.e. **big-endian**; the official web client reads bytes 2–3 as a host-order (little-endian)
    ``Uint16Array``, which would give 64257. This decoder follows the firmware.

Subscribe success is *not* acknowledged by the sample firmware (only the 507 error is sent): the
first DATA notification is the confirmation.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from gaitmon.sensors.decoder import (DecodedBatch, DecodedPacket, LayoutGroup, MalformedPacket, assemble_batch,
                                    by_length, column, decode_rest)

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
COMMAND_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"  # write (with response)
DATA_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"  # notify

CMD_HELLO, CMD_SUBSCRIBE, CMD_UNSUBSCRIBE = 0, 1, 2
RESP_COMMAND_RESULT, RESP_DATA = 1, 2

#: IMU6 rates offered by the official GSP web client (Hz); ``/Meas/IMU/Info`` lists a sensor's own.
IMU6_RATES_HZ: tuple[int, ...] = (13, 26, 52, 104, 208, 416, 833)
#: Reference the official Bleak example uses for its data subscription.
DEFAULT_CLIENT_REF = 99
HELLO_TEXT = b"Hello"
STATUS_INSUFFICIENT_STORAGE = 507  # no free subscription slot

#: The sample's buffer comment: "MTU is 161"; its outgoing buffer is MTU − 3 = 158 bytes.
GSP_MTU = 161
ATT_HEADER_BYTES = 3
IMU6_HEADER = struct.Struct("<BBI")  # resp_type, client_ref, first-sample time (ms)
IMU6_SAMPLE_BYTES = 24  # 3 × f32 acc + 3 × f32 gyro
#: An attribute value (hence a notification) is at most 512 bytes (Bluetooth Core, ATT).
MAX_NOTIFICATION_BYTES = 512
MAX_IMU6_SAMPLES = (MAX_NOTIFICATION_BYTES - IMU6_HEADER.size) // IMU6_SAMPLE_BYTES  # 21

_F32_MAX = float(np.finfo(np.float32).max)


def _check_ref(ref: int) -> int:
    if not 1 <= int(ref) <= 255:
        raise ValueError(f"client reference must be 1..255 (0 is reserved), not {ref}")
    return int(ref)


def hello_command(ref: int) -> bytes:
    """HELLO: the sensor answers ``[1, ref, "Hello"]`` (a liveness check after connecting)."""
    return bytes([CMD_HELLO, _check_ref(ref)])


def subscribe_command(ref: int, path: str) -> bytes:
    """SUBSCRIBE ``path`` (e.g. ``"/Meas/IMU6/208"``); DATA notifications then carry ``ref``."""
    encoded = path.encode("utf-8")
    if not path.startswith("/") or len(encoded) < 2:
        raise ValueError(f"resource path must start with '/', not {path!r}")
    if 2 + len(encoded) > GSP_MTU - ATT_HEADER_BYTES:
        raise ValueError(f"resource path of {len(encoded)} bytes does not fit one write")
    return bytes([CMD_SUBSCRIBE, _check_ref(ref)]) + encoded


def unsubscribe_command(ref: int) -> bytes:
    """UNSUBSCRIBE the subscription made with ``ref`` (the sensor also drops all on disconnect)."""
    return bytes([CMD_UNSUBSCRIBE, _check_ref(ref)])


def _check_rate(rate_hz: int) -> int:
    if rate_hz not in IMU6_RATES_HZ:
        raise ValueError(f"IMU6 rate must be one of {IMU6_RATES_HZ} Hz, not {rate_hz}")
    return int(rate_hz)


def imu6_path(rate_hz: int) -> str:
    """Resource path of the combined acc + gyro stream at ``rate_hz``."""
    return f"/Meas/IMU6/{_check_rate(rate_hz)}"


def max_imu6_samples(mtu: int = GSP_MTU) -> int:
    """How many IMU6 samples one notification holds at ATT MTU ``mtu``: (mtu − 3 − 6) // 24."""
    return max(0, (mtu - ATT_HEADER_BYTES - IMU6_HEADER.size) // IMU6_SAMPLE_BYTES)


def samples_per_notification(rate_hz: int, mtu: int = GSP_MTU) -> int:
    """Samples per IMU6 notification for the emulated sensor.

    The sensor batches more samples as the rate grows: 1 at 13 Hz, 2 at 26 Hz, … (documented for
    the two lowest rates; extrapolated here as ``rate/13``: 4, 8, 16, 32, 64). The sample app's
    158-byte buffer (MTU 161) holds at most ``(158 − 6) // 24 = 6`` IMU6 samples, so the emulator
    caps the batch there. What real firmware does with a larger batch (split into a DATA_PART2
    notification in device-lib 2.2.x, format unverified) is not emulated; pass a larger ``mtu``
    to emulate a firmware with a bigger buffer. The decoder derives N from the length either way.
    """
    cap = max_imu6_samples(mtu)
    if cap < 1:
        raise ValueError(f"MTU {mtu} cannot carry one IMU6 sample")
    return min(max(1, round(_check_rate(rate_hz) / 13)), cap)


class MovesenseDecoder:
    """COMMAND_RESULT and IMU6 DATA notifications of one GSP subscription.

    Parameters
    ----------
    sample_rate_hz : float
        The subscribed IMU6 rate (spaces the samples of one notification).
    client_ref : int
        The reference used in :func:`subscribe_command`; DATA for any other reference is malformed
        (another subscription's layout, e.g. ``/Meas/Acc``, can have a length that looks valid).

    Malformed (raises :class:`MalformedPacket`)
        empty or 1-byte notifications; COMMAND_RESULT whose payload is neither a 2-byte status nor
        text; DATA for another reference; DATA whose length is not ``6 + 24·N`` with N ≥ 1 (or over
        512 bytes); non-finite floats; any other response type (see :meth:`decode`).
    """

    family = "movesense_gsp"

    def __init__(self, sample_rate_hz: float, client_ref: int = DEFAULT_CLIENT_REF):
        if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise ValueError(f"sample rate must be positive, not {sample_rate_hz}")
        self.sample_rate_hz = float(sample_rate_hz)
        self.client_ref = _check_ref(client_ref)

    def decode(self, data: bytes) -> DecodedPacket:
        if len(data) < 2:
            raise MalformedPacket(f"{len(data)}-byte notification, a GSP notification has at least 2")
        kind, ref = data[0], data[1]
        if kind == RESP_COMMAND_RESULT:
            return _decode_result(ref, bytes(data[2:]), self.client_ref)
        if kind == RESP_DATA:
            return self._decode_imu6(ref, data)
        # Device-lib 2.2.x can continue a long value in a DATA_PART2 notification whose type code and
        # layout are unverified; guessing would corrupt samples, so it is counted and skipped.
        raise MalformedPacket(f"response type {kind} is neither COMMAND_RESULT (1) nor DATA (2): "
                              "possibly a DATA_PART2 continuation (unverified format), skipped")

    def _decode_imu6(self, ref: int, data: bytes) -> DecodedPacket:
        if ref != self.client_ref:
            raise MalformedPacket(f"data for another subscription (ref {ref}, expected {self.client_ref})")
        if len(data) > MAX_NOTIFICATION_BYTES:
            raise MalformedPacket(f"{len(data)} bytes is longer than a notification can be")
        body = len(data) - IMU6_HEADER.size
        if body <= 0 or body % IMU6_SAMPLE_BYTES:
            raise MalformedPacket(f"IMU6 data of {len(data)} bytes: length − 6 must be a positive "
                                  f"multiple of {IMU6_SAMPLE_BYTES}")
        n = body // IMU6_SAMPLE_BYTES
        _, _, first_ms = IMU6_HEADER.unpack_from(data)
        values = np.frombuffer(data, dtype="<f4", offset=IMU6_HEADER.size).reshape(2, n, 3)
        if not np.isfinite(values).all():
            raise MalformedPacket("non-finite value in IMU6 data")
        acc = values[0].astype(np.float64)
        gyro = np.radians(values[1].astype(np.float64))
        last_s = first_ms / 1000.0 + (n - 1) / self.sample_rate_hz
        return DecodedPacket(acc=acc, gyro=gyro, device_time_s=last_s, counter=None,
                             info={"ref": ref, "first_time_ms": first_ms, "n": n})

    def decode_many(self, payloads) -> DecodedBatch:
        """:func:`~gaitmon.sensors.decoder.decode_batch` of many notifications, equal bit for bit to
        :meth:`decode` of each: IMU6 DATA of one length (one sample count) in one numpy pass; command
        results and anything that fails a check go through :meth:`decode` (which says what is wrong)."""
        groups = []
        for length, (rows, matrix) in by_length(payloads)[1].items():
            n, rest = divmod(length - IMU6_HEADER.size, IMU6_SAMPLE_BYTES)
            if rest or n < 1 or length > MAX_NOTIFICATION_BYTES:
                continue
            values = column(matrix, IMU6_HEADER.size, "<f4", 6 * n).reshape(-1, 2, n, 3)
            ok = ((matrix[:, 0] == RESP_DATA) & (matrix[:, 1] == self.client_ref)
                  & np.isfinite(values).all(axis=(1, 2, 3)))
            values = values[ok]
            first_ms = column(matrix[ok], 2, "<u4").astype(np.float64)
            groups.append(LayoutGroup(rows[ok], acc=values[:, 0].astype(np.float64),
                                      gyro=np.radians(values[:, 1].astype(np.float64)),
                                      device_time_s=first_ms / 1000.0 + (n - 1) / self.sample_rate_hz))
        return assemble_batch(len(payloads), groups, decode_rest(self, payloads, groups))


def _decode_result(ref: int, payload: bytes, data_ref: int) -> DecodedPacket:
    info: dict = {"ref": ref, "for_subscription": ref == data_ref}
    if len(payload) == 2:
        info["status"] = int.from_bytes(payload, "big")  # firmware: {0x01, 0xFB} = 507
    elif payload:
        try:
            info["text"] = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPacket(f"command result payload of {len(payload)} bytes is neither a "
                                  "2-byte status nor UTF-8 text") from None
    else:
        raise MalformedPacket("command result without payload")
    return DecodedPacket(kind="reply", info=info)


def encode_imu6(ref: int, first_time_ms: int, acc_m_s2: np.ndarray, gyro_rad_s: np.ndarray) -> bytes:
    """One IMU6 DATA notification as the sensor (or the emulator) sends it.

    ``acc_m_s2`` and ``gyro_rad_s`` are (n, 3); gyro goes on the wire in °/s as float32 and the
    time of the first sample as u32 ms (wrapped).
    """
    acc = np.asarray(acc_m_s2, dtype=np.float64).reshape(-1, 3)
    gyro_dps = np.degrees(np.asarray(gyro_rad_s, dtype=np.float64)).reshape(-1, 3)
    n = len(acc)
    if len(gyro_dps) != n or not 1 <= n <= MAX_IMU6_SAMPLES:
        raise ValueError(f"need the same number (1..{MAX_IMU6_SAMPLES}) of acc and gyro samples, "
                         f"not {n} and {len(gyro_dps)}")
    values = np.vstack([acc, gyro_dps])
    if not (np.isfinite(values).all() and (np.abs(values) <= _F32_MAX).all()):
        raise ValueError("IMU6 values must be finite float32")
    return IMU6_HEADER.pack(RESP_DATA, _check_ref(ref), int(first_time_ms) & 0xFFFFFFFF) + \
        values.astype("<f4").tobytes()


def encode_command_result(ref: int, status: int) -> bytes:
    """COMMAND_RESULT with a status (big-endian, as the firmware's 507 reply is built)."""
    if not 0 <= status <= 0xFFFF:
        raise ValueError(f"status must fit uint16, not {status}")
    return bytes([RESP_COMMAND_RESULT, _check_ref(ref)]) + int(status).to_bytes(2, "big")


def encode_hello_reply(ref: int) -> bytes:
    """The sensor's answer to HELLO: ``[1, ref, "Hello"]``."""
    return bytes([RESP_COMMAND_RESULT, _check_ref(ref)]) + HELLO_TEXT
