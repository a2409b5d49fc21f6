"""Polar PMD (Polar Measurement Data): Polar Verity Sense ACC + GYRO, Polar H10 ACC.

Reference: ``shared/reference/ble-protocols.md`` section (b), which cites the Polar BLE SDK
(``polarofficial/polar-ble-sdk``, ``.../gatt/client/pmd/``) and Polar's "online measurement" PDF.
Field notes for the sensor itself: ``firmware_notes/polar-verity-sense.md``.

GATT
----
One service with a control point (CP: write + notify) and a data characteristic (notify).
Subscribe to **both** before writing any CP command. Commands are ``[op, measurement type,
settings TLV…]``; the sensor answers on the CP with ``F0 op type status more params…``, and sends
``01 type…`` by itself when it stops a stream.

Data frames
-----------
``[type & 0x3F][u64 LE timestamp][frame byte][content]``. Frame byte bit 7 = delta-compressed,
bits 0–6 = frame type. Content:

* uncompressed ACC types 0/1/2: int8 / int16 / int24 LE, x y z per sample (the H10 sends type 1);
* compressed: a reference sample (``channels × ceil(resolution/8)`` bytes, LE, sign-extended), then
  blocks ``[bit width u8][sample count u8][ceil(width·count·channels/8) bytes]`` of deltas packed
  LSB-first and sign-extended, each added to the previous sample channel by channel. The blocks must
  consume the content exactly: a truncated block or trailing bytes make the frame malformed. The
  Verity sends ACC as ``0x81`` (compressed type 1) and GYRO as ``0x80`` (compressed type 0).
* GYRO compressed type 1 (``0x81``): the reference values are float32 bit patterns and the deltas
  are added to the *integer* bit patterns (mod 2³²), then reinterpreted as float32.

Units
-----
Every frame's integer counts times FACTOR (the sensor returns FACTOR in its start reply; 1.0 if it
returns none) give the native unit, converted here to SI:

* ACC uncompressed 0/1/2 and compressed 1: counts × factor = milli-g. ACC compressed type 0 (a
  special Verity format): counts × factor = g, i.e. × 1000 = milli-g. m/s² = mG × 9.80665e-3.
  (Polar's PDF gives g for the Verity's *uncompressed* 8-bit type; the SDK treats it as milli-g, as
  we do. Gaitmon never requests that type.)
* GYRO compressed 0: counts × factor = deg/s; compressed 1: float32 × factor = deg/s. rad/s =
  deg/s × π/180.

Output: ``DecodedPacket.acc`` (n, 3) m/s² or ``.gyro`` (n, 3) rad/s in the sensor's axes;
``info`` carries the frame's ``frame_type``, ``compressed``, ``n``, exact integer
``timestamp_ns``, the raw ``counts``, the ``native`` values and their ``native_unit``.

Time
----
The header timestamp is nanoseconds since 2000-01-01T00:00:00Z (device clock) of the **last**
sample of the frame; ``device_time_s`` is that time in seconds. The SDK spaces a frame's samples
evenly between the previous frame's timestamp and this one (first frame: 1/fs back from this one);
:func:`sample_timestamps_ns` reproduces that.

Loss
----
PMD frames carry **no sequence counter**. A lost frame shows only in time: compare
``timestamp_k − timestamp_(k−1)`` with ``n_k / fs`` (:func:`missing_samples`).

Pure: no clock, no I/O, no bleak.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gaitmon.consts import STANDARD_GRAVITY
from gaitmon.sensors.decoder import (DecodedBatch, DecodedPacket, LayoutGroup, MalformedPacket, assemble_batch,
                                    by_length, column, decode_rest)

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

# Measurement types (on the wire masked with 0x3F; bit 7 of a request selects offline recording).
ECG, PPG, ACC, PPI, GYRO, MAG, SKIN_TEMP = 0, 1, 2, 3, 5, 6, 7
SDK_MODE, LOCATION, PRESSURE, TEMPERATURE, OFFLINE_RECORDING, OFFLINE_HR = 9, 10, 11, 12, 13, 14
MEASUREMENT_NAMES = {ECG: "ECG", PPG: "PPG", ACC: "ACC", PPI: "PPI", GYRO: "GYRO", MAG: "MAG",
                     SKIN_TEMP: "SKIN_TEMP", SDK_MODE: "SDK_MODE", LOCATION: "LOCATION",
                     PRESSURE: "PRESSURE", TEMPERATURE: "TEMPERATURE",
                     OFFLINE_RECORDING: "OFFLINE_RECORDING", OFFLINE_HR: "OFFLINE_HR"}
TYPE_MASK = 0x3F

# Control point op codes (client → sensor) and notifications (sensor → client).
OP_GET_MEASUREMENT_SETTINGS, OP_REQUEST_MEASUREMENT_START, OP_STOP_MEASUREMENT = 1, 2, 3
OP_GET_SDK_MODE_SETTINGS, OP_GET_MEASUREMENT_STATUS = 4, 5
OP_NAMES = {OP_GET_MEASUREMENT_SETTINGS: "GET_MEASUREMENT_SETTINGS",
            OP_REQUEST_MEASUREMENT_START: "REQUEST_MEASUREMENT_START",
            OP_STOP_MEASUREMENT: "STOP_MEASUREMENT", OP_GET_SDK_MODE_SETTINGS: "GET_SDK_MODE_SETTINGS",
            OP_GET_MEASUREMENT_STATUS: "GET_MEASUREMENT_STATUS"}
RESPONSE_CODE = 0xF0
ONLINE_MEASUREMENT_STOPPED = 0x01
STATUS_NAMES = ("SUCCESS", "ERROR_INVALID_OP_CODE", "ERROR_INVALID_MEASUREMENT_TYPE",
                "ERROR_NOT_SUPPORTED", "ERROR_INVALID_LENGTH", "ERROR_INVALID_PARAMETER",
                "ERROR_ALREADY_IN_STATE", "ERROR_INVALID_RESOLUTION", "ERROR_INVALID_SAMPLE_RATE",
                "ERROR_INVALID_RANGE", "ERROR_INVALID_MTU", "ERROR_INVALID_NUMBER_OF_CHANNELS",
                "ERROR_INVALID_STATE", "ERROR_DEVICE_IN_CHARGER", "ERROR_DISK_FULL")

# Settings TLV: setting type → (name in parse_settings' dict, field size in bytes).
SETTING_SAMPLE_RATE, SETTING_RESOLUTION, SETTING_RANGE, SETTING_RANGE_MILLIUNIT = 0, 1, 2, 3
SETTING_CHANNELS, SETTING_FACTOR, SETTING_SECURITY = 4, 5, 6
SETTINGS = {SETTING_SAMPLE_RATE: ("sample_rate_hz", 2), SETTING_RESOLUTION: ("resolution_bits", 2),
            SETTING_RANGE: ("range", 2), SETTING_RANGE_MILLIUNIT: ("range_milliunit", 4),
            SETTING_CHANNELS: ("channels", 1), SETTING_FACTOR: ("factor", 4),
            SETTING_SECURITY: ("security", 16)}

# Feature bitmap (a read of the CP): byte 1 and byte 2 bits → measurement type.
FEATURE_BITS = ((1, 0x01, ECG), (1, 0x02, PPG), (1, 0x04, ACC), (1, 0x08, PPI), (1, 0x20, GYRO),
                (1, 0x40, MAG), (1, 0x80, SKIN_TEMP), (2, 0x02, SDK_MODE), (2, 0x04, LOCATION),
                (2, 0x08, PRESSURE), (2, 0x10, TEMPERATURE), (2, 0x20, OFFLINE_RECORDING),
                (2, 0x40, OFFLINE_HR))

HEADER = struct.Struct("<BQB")  # measurement type, timestamp ns since 2000, frame byte
COMPRESSED_BIT = 0x80
MAX_DELTA_BITS = 32

MG_TO_M_S2 = STANDARD_GRAVITY / 1000.0
DEG_TO_RAD = math.pi / 180.0

#: ACC FACTOR of the Verity (compressed type 1) and the H10 (raw type 1): counts are milli-g. The
#: observed Verity ACC start reply (``F0 02 02 00 00``, issue #331) carries no FACTOR, i.e. 1.0.
VERITY_ACC_FACTOR = 1.0
H10_ACC_FACTOR = 1.0
#: GYRO FACTOR (deg/s per count, compressed type 0) per full-scale range, ASSUMED = range / 2¹⁵
#: (2000 dps → 0.06103515625, exact in float32). Not captured from a device: the Verity returns
#: FACTOR in its gyro start reply, and that value is the one to pass to PolarPmdDecoder.
VERITY_GYRO_FACTORS = {dps: dps / 32768.0 for dps in (250, 500, 1000, 2000)}
VERITY_GYRO_FACTOR = VERITY_GYRO_FACTORS[2000]
#: ACC FACTOR of compressed type 0 in the SDK's test (g per count at ±8 g, float32 of 2.44e-4).
ACC_TYPE0_FACTOR_8G = float(np.float32(2.44e-4))

#: Verity Sense online-streaming options (rates > 52 Hz need SDK mode) and H10 ACC options.
VERITY_RATES_HZ = (26, 52, 104, 208, 416)
VERITY_ACC_RANGES_G = (2, 4, 8, 16)
VERITY_GYRO_RANGES_DPS = (250, 500, 1000, 2000)
H10_ACC_RATES_HZ = (25, 50, 100, 200)
H10_ACC_RANGES_G = (2, 4, 8)


# ------------------------------------------------------------------------------------------------
# Control point: commands, settings, replies


def _setting_tlv(setting_type: int, value: int) -> bytes:
    name, size = SETTINGS[setting_type]
    if not 0 <= int(value) < 1 << (8 * size):
        raise ValueError(f"{name} {value} does not fit {size} byte(s)")
    return bytes([setting_type, 1]) + int(value).to_bytes(size, "little")


def start_command(measurement_type: int, sample_rate_hz: int, resolution_bits: int, range_: int | None,
                  channels: int | None = None) -> bytes:
    """REQUEST_MEASUREMENT_START: ``02 type`` + TLVs (count 1 each) rate, resolution, range, channels.

    ``range_`` (g for ACC, deg/s for GYRO) and ``channels`` are left out when None (the H10 ACC
    start has no channels). FACTOR is never sent.
    """
    body = _setting_tlv(SETTING_SAMPLE_RATE, sample_rate_hz) + _setting_tlv(SETTING_RESOLUTION, resolution_bits)
    if range_ is not None:
        body += _setting_tlv(SETTING_RANGE, range_)
    if channels is not None:
        body += _setting_tlv(SETTING_CHANNELS, channels)
    return bytes([OP_REQUEST_MEASUREMENT_START, _measurement_byte(measurement_type)]) + body


def _measurement_byte(measurement_type: int) -> int:
    if not 0 <= int(measurement_type) <= TYPE_MASK:
        raise ValueError(f"measurement type must be 0..63, not {measurement_type}")
    return int(measurement_type)


def stop_command(measurement_type: int) -> bytes:
    """STOP_MEASUREMENT ``03 type``."""
    return bytes([OP_STOP_MEASUREMENT, _measurement_byte(measurement_type)])


def get_settings_command(measurement_type: int) -> bytes:
    """GET_MEASUREMENT_SETTINGS ``01 type`` (the reply lists the options the sensor offers now)."""
    return bytes([OP_GET_MEASUREMENT_SETTINGS, _measurement_byte(measurement_type)])


def get_sdk_mode_settings_command(measurement_type: int) -> bytes:
    """GET_SDK_MODE_SETTINGS ``04 type`` (the options available in SDK mode)."""
    return bytes([OP_GET_SDK_MODE_SETTINGS, _measurement_byte(measurement_type)])


def sdk_mode_start_command() -> bytes:
    """Enter SDK mode (``02 09``): rates above 52 Hz, on-device algorithms off. Stop streams first."""
    return bytes([OP_REQUEST_MEASUREMENT_START, SDK_MODE])


def sdk_mode_stop_command() -> bytes:
    """Leave SDK mode (``03 09``)."""
    return bytes([OP_STOP_MEASUREMENT, SDK_MODE])


def parse_settings(tlv: bytes) -> dict:
    """Settings TLV ``[type, count, count × value]…`` → ``{name: [values]}`` (names of :data:`SETTINGS`).

    Integers are unsigned LE; FACTOR is float32; SECURITY is 16 raw bytes. An unknown setting type
    (its size is unknown), a truncated value or a non-finite FACTOR raises :class:`MalformedPacket`.
    """
    tlv = bytes(tlv)
    settings: dict = {}
    offset = 0
    while offset < len(tlv):
        if offset + 2 > len(tlv):
            raise MalformedPacket(f"settings TLV ends inside a header at byte {offset}")
        setting_type, count = tlv[offset], tlv[offset + 1]
        if setting_type not in SETTINGS:
            raise MalformedPacket(f"unknown setting type {setting_type} at byte {offset}")
        name, size = SETTINGS[setting_type]
        end = offset + 2 + count * size
        if end > len(tlv):
            raise MalformedPacket(f"setting {name}: {count} value(s) need {end} bytes, TLV has {len(tlv)}")
        values = [_setting_value(setting_type, tlv[i:i + size]) for i in range(offset + 2, end, size)]
        settings.setdefault(name, []).extend(values)
        offset = end
    return settings


def _setting_value(setting_type: int, raw: bytes):
    if setting_type == SETTING_SECURITY:
        return raw
    if setting_type == SETTING_FACTOR:
        (value,) = struct.unpack("<f", raw)
        if not math.isfinite(value):
            raise MalformedPacket(f"non-finite FACTOR {value}")
        return value
    return int.from_bytes(raw, "little")


@dataclass(frozen=True)
class ControlPointReply:
    """A CP response ``F0 op type status [more params…]``.

    ``settings`` is the parsed parameter TLV for replies that carry one (get settings, get SDK-mode
    settings, start), None otherwise, when ``more`` says the parameters continue in the next
    notification (join them and call :func:`parse_settings`), or when they do not parse. ``factor``
    is the FACTOR a start reply carries (None if it carries none: then the factor is 1.0).
    """

    op: int
    op_name: str
    measurement_type: int
    type_name: str
    status: int
    status_text: str
    more: bool
    parameters: bytes
    settings: dict | None = None
    factor: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == 0


def parse_control_point_reply(data: bytes) -> ControlPointReply:
    """Parse a CP response notification (first byte ``0xF0``); raise :class:`MalformedPacket` if not one."""
    data = bytes(data)
    if len(data) < 4:
        raise MalformedPacket(f"control point response of {len(data)} bytes, expected at least 4")
    if data[0] != RESPONSE_CODE:
        raise MalformedPacket(f"control point response starts 0x{data[0]:02x}, expected 0xf0")
    op, mtype, status = data[1], data[2] & TYPE_MASK, data[3]
    success = status == 0
    more = success and len(data) > 4 and data[4] != 0
    parameters = data[5:] if success else b""
    settings = _reply_settings(op, more, parameters)
    factor = (settings.get("factor") or [None])[0] if settings else None  # a FACTOR TLV may hold 0 values
    status_text = STATUS_NAMES[status] if status < len(STATUS_NAMES) else f"UNKNOWN_STATUS_{status}"
    return ControlPointReply(op=op, op_name=OP_NAMES.get(op, f"UNKNOWN_OP_{op}"), measurement_type=mtype,
                             type_name=MEASUREMENT_NAMES.get(mtype, f"UNKNOWN_TYPE_{mtype}"), status=status,
                             status_text=status_text, more=more, parameters=parameters, settings=settings,
                             factor=factor)


def _reply_settings(op: int, more: bool, parameters: bytes) -> dict | None:
    carries_tlv = op in (OP_GET_MEASUREMENT_SETTINGS, OP_GET_SDK_MODE_SETTINGS, OP_REQUEST_MEASUREMENT_START)
    if not carries_tlv or more or len(parameters) <= 1:  # the SDK ignores a 0- or 1-byte parameter part
        return None
    try:
        return parse_settings(parameters)
    except MalformedPacket:
        return None


def parse_feature_bitmap(data: bytes) -> frozenset:
    """A read of the CP → the set of measurement types the sensor offers (byte 0 is ``0x0F``)."""
    data = bytes(data)
    if len(data) < 2:
        raise MalformedPacket(f"feature bitmap of {len(data)} bytes, expected at least 2")
    padded = data + b"\x00"
    return frozenset(mtype for byte, bit, mtype in FEATURE_BITS if padded[byte] & bit)


class PolarControlPointDecoder:
    """CP notifications → ``DecodedPacket(kind="reply")``.

    ``info["event"]`` is ``"response"`` (plus the :class:`ControlPointReply` fields and ``reply``
    itself) or ``"measurement_stopped"`` (the sensor stopped streams by itself; ``info
    ["measurement_types"]`` lists them).
    """

    family = "polar_pmd"

    def decode(self, data: bytes) -> DecodedPacket:
        data = bytes(data)
        if not data:
            raise MalformedPacket("empty control point notification")
        if data[0] == ONLINE_MEASUREMENT_STOPPED:
            if len(data) < 2:
                raise MalformedPacket("measurement-stopped notification names no measurement type")
            types = [b & TYPE_MASK for b in data[1:]]
            return DecodedPacket(kind="reply", info={"event": "measurement_stopped", "measurement_types": types,
                                                     "type_names": [MEASUREMENT_NAMES.get(t, f"UNKNOWN_TYPE_{t}")
                                                                    for t in types]})
        reply = parse_control_point_reply(data)
        info = {"event": "response", **dataclasses.asdict(reply), "reply": reply}
        return DecodedPacket(kind="reply", info=info)


# ------------------------------------------------------------------------------------------------
# Data frames


class FrameSpec(NamedTuple):
    """How one (measurement type, compressed, frame type) is laid out and scaled."""

    encoding: str  # "raw" (fixed-size ints), "delta" (delta-compressed ints) or "float" (float32 patterns)
    bits: int | None  # raw: sample size; float: 32; delta: None = the decoder's resolution
    native_unit: str
    native_per_factored_count: float  # native = counts × factor × this
    si_per_native: float


FRAME_SPECS = {
    (ACC, False, 0): FrameSpec("raw", 8, "mG", 1.0, MG_TO_M_S2),
    (ACC, False, 1): FrameSpec("raw", 16, "mG", 1.0, MG_TO_M_S2),
    (ACC, False, 2): FrameSpec("raw", 24, "mG", 1.0, MG_TO_M_S2),
    (ACC, True, 0): FrameSpec("delta", None, "mG", 1000.0, MG_TO_M_S2),  # counts × factor = g
    (ACC, True, 1): FrameSpec("delta", None, "mG", 1.0, MG_TO_M_S2),
    (GYRO, True, 0): FrameSpec("delta", None, "deg/s", 1.0, DEG_TO_RAD),
    (GYRO, True, 1): FrameSpec("float", 32, "deg/s", 1.0, DEG_TO_RAD),
}
DEFAULT_FRAME_TYPE = {ACC: 1, GYRO: 0}  # what the Verity sends (compressed): 0x81 ACC, 0x80 GYRO


def _frame_spec(measurement_type: int, compressed: bool, frame_type: int) -> FrameSpec | None:
    return FRAME_SPECS.get((measurement_type, bool(compressed), frame_type))


def _sign_extend(values: np.ndarray, bits: int) -> np.ndarray:
    sign = np.int64(1) << np.int64(bits - 1)
    return (values ^ sign) - sign


def _read_le(raw: bytes, size: int, bits: int) -> np.ndarray:
    """Consecutive ``size``-byte LE fields, the low ``bits`` bits sign-extended → int64 (flat)."""
    matrix = np.frombuffer(raw, dtype=np.uint8).reshape(-1, size).astype(np.int64)
    values = matrix @ (np.int64(1) << (8 * np.arange(size, dtype=np.int64)))
    return _sign_extend(values & ((np.int64(1) << np.int64(bits)) - 1), bits)


def _read_le_matrix(raw: np.ndarray, size: int, bits: int) -> np.ndarray:
    """:func:`_read_le` of each row of a uint8 matrix → (rows, fields) int64."""
    return _read_le(raw.tobytes(), size, bits).reshape(len(raw), -1)


def _unpack_deltas_matrix(blocks: np.ndarray, width: int, n_values: int) -> np.ndarray:
    """:func:`_unpack_deltas` of each row of a uint8 matrix → (rows, n_values) int64: each field is
    cut from the 8 bytes around it (a field of ≤ 32 bits starting at bit 0..7 of a byte fits in them)."""
    first_bit = np.arange(n_values, dtype=np.int64) * width
    padded = np.zeros((len(blocks), blocks.shape[1] + 8), dtype=np.uint8)
    padded[:, :blocks.shape[1]] = blocks
    words = np.ascontiguousarray(padded[:, (first_bit // 8)[:, None] + np.arange(8)]).view("<u8")[..., 0]
    values = (words >> (first_bit % 8).astype(np.uint64)) & np.uint64((1 << width) - 1)
    return _sign_extend(values.astype(np.int64), width)


def _unpack_deltas(block: bytes, width: int, n_values: int) -> np.ndarray:
    """``n_values`` signed ``width``-bit fields packed LSB-first → int64."""
    bits = np.unpackbits(np.frombuffer(block, dtype=np.uint8), bitorder="little")[: n_values * width]
    values = bits.reshape(n_values, width).astype(np.int64) @ (np.int64(1) << np.arange(width, dtype=np.int64))
    return _sign_extend(values, width)


def _check_layout(channels: int, resolution_bits: int) -> int:
    if not 1 <= channels <= 255:
        raise ValueError(f"channels must be 1..255, not {channels}")
    if not 1 <= resolution_bits <= 32:
        raise ValueError(f"resolution must be 1..32 bits, not {resolution_bits}")
    return (resolution_bits + 7) // 8


def decode_delta_content(content: bytes, channels: int = 3, resolution_bits: int = 16, *,
                         strict: bool = True) -> np.ndarray:
    """Content of a delta-compressed frame (bytes after the 10-byte header) → int64 samples (n, channels).

    Sums are exact (int64, no wrap). ``strict`` (the default, and what :class:`PolarPmdDecoder` uses)
    requires the blocks to consume the content exactly. ``strict=False`` salvages a *truncated*
    frame: it stops at an incomplete block header and keeps only the whole samples of a cut-off last
    block; bad bit widths or counts still raise. Raises :class:`MalformedPacket`.
    """
    content = bytes(content)
    ref_size = _check_layout(channels, resolution_bits)
    if len(content) < channels * ref_size:
        raise MalformedPacket(f"delta content of {len(content)} bytes is shorter than its "
                              f"{channels * ref_size}-byte reference sample")
    parts = [_read_le(content[:channels * ref_size], ref_size, resolution_bits).reshape(1, channels)]
    offset = channels * ref_size
    while offset < len(content):
        block, offset = _next_block(content, offset, channels, strict)
        if block is None:
            break
        parts.append(block)
    return np.cumsum(np.concatenate(parts), axis=0)


def _next_block(content: bytes, offset: int, channels: int, strict: bool):
    """Decode the delta block at ``offset`` → (deltas (count, channels) or None to stop, next offset)."""
    if offset + 2 > len(content):
        if strict:
            raise MalformedPacket(f"{len(content) - offset} trailing byte(s) after the last delta block")
        return None, len(content)
    width, count = content[offset], content[offset + 1]
    if not 1 <= width <= MAX_DELTA_BITS:
        raise MalformedPacket(f"delta bit width {width} at byte {offset} (must be 1..{MAX_DELTA_BITS})")
    if count == 0:
        raise MalformedPacket(f"delta block at byte {offset} has 0 samples")
    size = (width * count * channels + 7) // 8
    block = content[offset + 2: offset + 2 + size]
    if len(block) < size:
        if strict:
            raise MalformedPacket(f"delta block at byte {offset} needs {size} bytes ({count} samples of "
                                  f"{width} bits), only {len(block)} left")
        count = len(block) * 8 // (width * channels)
        if count == 0:
            return None, len(content)
    return _unpack_deltas(block, width, count * channels).reshape(count, channels), offset + 2 + size


def parse_header(data: bytes) -> tuple[int, int, int, bytes]:
    """A data frame → (measurement type, timestamp ns, frame byte, content); MalformedPacket if short."""
    if len(data) < HEADER.size:
        raise MalformedPacket(f"{len(data)} bytes is shorter than the {HEADER.size}-byte PMD header")
    mtype, timestamp_ns, frame_byte = HEADER.unpack_from(data)
    return mtype & TYPE_MASK, timestamp_ns, frame_byte, bytes(data[HEADER.size:])


def _decode_raw(content: bytes, bits: int, channels: int) -> np.ndarray:
    size = bits // 8
    if not content:
        raise MalformedPacket("frame with no samples")
    if len(content) % (size * channels):
        raise MalformedPacket(f"{len(content)} content bytes is not a whole number of "
                              f"{size * channels}-byte samples")
    return _read_le(content, size, bits).reshape(-1, channels)


def _float_values(counts: np.ndarray) -> np.ndarray:
    """Integer sums of float32 bit patterns → float64 values (mod 2³², as the sensor's int32 sums)."""
    patterns = (counts & np.int64(0xFFFFFFFF)).astype(np.uint32)
    if ((patterns & np.uint32(0x7F800000)) == np.uint32(0x7F800000)).any():  # before any cast: sNaN warns
        raise MalformedPacket("non-finite float gyro sample (inf or NaN bit pattern)")
    return patterns.view(np.float32).astype(np.float64)


def counts_to_si(counts: np.ndarray, measurement_type: int, factor: float = 1.0, frame_type: int | None = None,
                 compressed: bool = True) -> np.ndarray:
    """Raw counts (float32 values for GYRO type 1) → native unit × factor → SI (m/s² or rad/s)."""
    spec = _spec_or_value_error(measurement_type, compressed, frame_type)
    native = np.asarray(counts, dtype=np.float64) * (float(factor) * spec.native_per_factored_count)
    return native * spec.si_per_native


def si_to_counts(values_si: np.ndarray, measurement_type: int, factor: float = 1.0, frame_type: int | None = None,
                 compressed: bool = True, resolution_bits: int = 16) -> np.ndarray:
    """SI values (m/s² or rad/s) → the counts a sensor with this FACTOR sends (what the emulator encodes).

    ACC type 1 with factor 1.0 → milli-g counts; GYRO type 0 → deg/s ÷ factor. Integer frames are
    rounded and saturate at the field's range (int64 out); GYRO type 1 returns float32 values.
    """
    spec = _spec_or_value_error(measurement_type, compressed, frame_type)
    native = np.asarray(values_si, dtype=np.float64) / spec.si_per_native
    counts = native / (float(factor) * spec.native_per_factored_count)
    if spec.encoding == "float":
        return counts.astype(np.float32)
    bits = spec.bits or resolution_bits
    limit = 1 << (bits - 1)
    return np.clip(np.rint(counts), -limit, limit - 1).astype(np.int64)


counts_from_si = si_to_counts


def _spec_or_value_error(measurement_type: int, compressed: bool, frame_type: int | None) -> FrameSpec:
    if frame_type is None:
        frame_type = DEFAULT_FRAME_TYPE.get(measurement_type, -1)
    spec = _frame_spec(measurement_type, compressed, frame_type)
    if spec is None:
        raise ValueError(f"no PMD frame layout for measurement type {measurement_type}, "
                         f"{'compressed' if compressed else 'uncompressed'} type {frame_type}")
    return spec


class PolarPmdDecoder:
    """Data notifications of one PMD stream (ACC or GYRO) → SI samples.

    Parameters
    ----------
    measurement_type : int
        :data:`ACC` or :data:`GYRO`; a frame of another type is malformed.
    sample_rate_hz : float
        The rate the stream was started at (only for ``info["expected_span_ns"]``, the time n
        samples take; compare it with the timestamp step to detect lost frames).
    factor : float
        FACTOR from the start reply (1.0 if the reply carries none).
    channels : int
        Channels per sample (3 for ACC and GYRO).
    resolution_bits : int
        Reference-sample resolution of integer delta frames (16 on the Verity and H10).
    """

    family = "polar_pmd"

    def __init__(self, measurement_type: int, sample_rate_hz: float, factor: float = 1.0, channels: int = 3,
                 resolution_bits: int = 16):
        if measurement_type not in (ACC, GYRO):
            raise ValueError(f"PolarPmdDecoder decodes ACC ({ACC}) or GYRO ({GYRO}), not type {measurement_type}")
        if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise ValueError(f"sample rate must be positive, not {sample_rate_hz}")
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"factor must be positive and finite, not {factor}")
        if channels != 3:
            raise ValueError(f"ACC and GYRO frames have 3 channels, not {channels}")
        _check_layout(channels, resolution_bits)
        self.measurement_type = measurement_type
        self.sample_rate_hz = float(sample_rate_hz)
        self.factor = float(factor)
        self.channels = channels
        self.resolution_bits = resolution_bits

    def decode(self, data: bytes) -> DecodedPacket:
        mtype, timestamp_ns, frame_byte, content = parse_header(bytes(data))
        if mtype != self.measurement_type:
            raise MalformedPacket(f"measurement type {mtype}, this stream is {self.measurement_type} "
                                  f"({MEASUREMENT_NAMES[self.measurement_type]})")
        compressed, frame_type = bool(frame_byte & COMPRESSED_BIT), frame_byte & 0x7F
        spec = _frame_spec(mtype, compressed, frame_type)
        if spec is None:
            raise MalformedPacket(f"unknown {MEASUREMENT_NAMES[mtype]} frame byte 0x{frame_byte:02x}")
        counts, values = self._counts(spec, content)
        with np.errstate(over="ignore", invalid="ignore"):  # a huge float × factor: caught just below
            native = values * (self.factor * spec.native_per_factored_count)
            si = native * spec.si_per_native
        if not np.isfinite(si).all():
            raise MalformedPacket("sample out of float range")
        n = len(counts)
        info = {"measurement_type": mtype, "frame_byte": frame_byte, "frame_type": frame_type,
                "compressed": compressed, "n": n, "timestamp_ns": timestamp_ns, "counts": counts,
                "native": native, "native_unit": spec.native_unit, "factor": self.factor,
                "expected_span_ns": n * 1e9 / self.sample_rate_hz}
        channel = {"acc": si} if mtype == ACC else {"gyro": si}
        return DecodedPacket(device_time_s=timestamp_ns / 1e9, info=info, **channel)

    def decode_many(self, payloads) -> DecodedBatch:
        """:func:`~gaitmon.sensors.decoder.decode_batch` of many frames, equal bit for bit to :meth:`decode`
        of each. Frames of one length and frame byte share a layout when they are raw, or delta frames
        made of one block of the same bit width and sample count (what the Verity sends: the emulated
        sensor's frames are all one block): each such group is decoded in one numpy pass. Delta frames
        of several blocks (their layout depends on every block header, so a group would hold one frame),
        and anything that fails a check, go through :meth:`decode` (which says what is wrong)."""
        groups = []
        for length, (rows, matrix) in by_length(payloads)[1].items():
            if length <= HEADER.size:
                continue
            ours = (matrix[:, 0] & TYPE_MASK) == self.measurement_type
            frame_bytes = matrix[:, HEADER.size - 1]
            for frame_byte in np.unique(frame_bytes[ours]).tolist():
                spec = _frame_spec(self.measurement_type, bool(frame_byte & COMPRESSED_BIT), frame_byte & 0x7F)
                if spec is None:
                    continue
                chosen = ours & (frame_bytes == frame_byte)
                for layout_rows, counts in self._layouts(spec, rows[chosen], matrix[chosen, HEADER.size:]):
                    group = self._group(spec, layout_rows, counts, matrix[np.searchsorted(rows, layout_rows)])
                    if group is not None:
                        groups.append(group)
        return assemble_batch(len(payloads), groups, decode_rest(self, payloads, groups))

    def _layouts(self, spec: FrameSpec, rows: np.ndarray, content: np.ndarray):
        """(rows, counts (rows, n, 3) int64) per layout of frames with one frame byte and one length."""
        channels = self.channels
        if spec.encoding == "raw":
            size = spec.bits // 8
            if content.shape[1] % (size * channels) == 0:
                yield rows, _read_le_matrix(content, size, spec.bits).reshape(len(rows), -1, channels)
            return
        bits = spec.bits if spec.encoding == "float" else self.resolution_bits
        ref_bytes = channels * ((bits + 7) // 8)
        if content.shape[1] < ref_bytes + 2:
            return
        width, count = content[:, ref_bytes].astype(np.int64), content[:, ref_bytes + 1].astype(np.int64)
        one_block = ((1 <= width) & (width <= MAX_DELTA_BITS) & (count >= 1)
                     & (ref_bytes + 2 + (width * count * channels + 7) // 8 == content.shape[1]))
        for w, c in np.unique(np.stack([width, count], axis=1)[one_block], axis=0).tolist():
            same = one_block & (width == w) & (count == c)
            block = content[same]
            reference = _read_le_matrix(block[:, :ref_bytes], ref_bytes // channels, bits).reshape(-1, 1, channels)
            deltas = _unpack_deltas_matrix(block[:, ref_bytes + 2:], w, c * channels).reshape(-1, c, channels)
            yield rows[same], np.cumsum(np.concatenate([reference, deltas], axis=1), axis=1)

    def _group(self, spec: FrameSpec, rows: np.ndarray, counts: np.ndarray, matrix: np.ndarray) -> LayoutGroup | None:
        """The samples of one layout's frames; frames :meth:`decode` would refuse are left out."""
        ok = np.ones(len(rows), dtype=bool)
        if spec.encoding == "float":
            patterns = (counts & np.int64(0xFFFFFFFF)).astype(np.uint32)
            ok = ~((patterns & np.uint32(0x7F800000)) == np.uint32(0x7F800000)).any(axis=(1, 2))
            values = patterns[ok].view(np.float32).astype(np.float64)
        else:
            values = counts[ok].astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):  # a huge float × factor: left out just below
            si = values * (self.factor * spec.native_per_factored_count) * spec.si_per_native
        finite = np.isfinite(si).all(axis=(1, 2))
        rows, si = rows[ok][finite], si[finite]
        if not len(rows):
            return None
        device_time = column(matrix[ok][finite], 1, "<u8").astype(np.float64) / 1e9
        channel = {"acc": si} if self.measurement_type == ACC else {"gyro": si}
        return LayoutGroup(rows, device_time_s=device_time, **channel)

    def _counts(self, spec: FrameSpec, content: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(raw counts, the values factor multiplies): equal, except float patterns → float values."""
        if spec.encoding == "raw":
            counts = _decode_raw(content, spec.bits, self.channels)
            return counts, counts.astype(np.float64)
        if spec.encoding == "float":
            sums = decode_delta_content(content, self.channels, spec.bits)
            return (sums & np.int64(0xFFFFFFFF)).astype(np.uint32), _float_values(sums)
        counts = decode_delta_content(content, self.channels, self.resolution_bits)
        return counts, counts.astype(np.float64)


# ------------------------------------------------------------------------------------------------
# Time


def sample_timestamps_ns(timestamp_ns: int, n_samples: int, sample_rate_hz: float,
                         previous_timestamp_ns: int | None = None) -> np.ndarray:
    """Per-sample device timestamps (uint64 ns since 2000) of a frame, as the Polar SDK assigns them.

    The last is the frame's own timestamp. The others are spaced evenly from the previous frame's
    timestamp (``(ts − prev) / n``, the first at ``prev + step``); for the first frame
    (``previous_timestamp_ns`` None or 0, as the SDK treats 0) the step is ``1/fs`` back from
    ``ts``. Rounded half to even, as the SDK does. Raises ValueError if time runs backwards.
    """
    if n_samples < 1:
        raise ValueError(f"a frame has at least one sample, not {n_samples}")
    if previous_timestamp_ns:
        if timestamp_ns <= previous_timestamp_ns:
            raise ValueError(f"timestamp {timestamp_ns} is not after the previous {previous_timestamp_ns}")
        step = (timestamp_ns - previous_timestamp_ns) / n_samples
        start = float(previous_timestamp_ns) + step
    else:
        step = 1e9 / sample_rate_hz
        start = float(timestamp_ns) - step * (n_samples - 1)
        if start < 0:
            raise ValueError(f"first sample of {n_samples} at {sample_rate_hz} Hz would be before the epoch")
    stamps = np.rint(start + step * np.arange(n_samples - 1)).astype(np.uint64)
    return np.append(stamps, np.uint64(timestamp_ns))


def missing_samples(previous_timestamp_ns: int, timestamp_ns: int, n_samples: int, sample_rate_hz: float) -> int:
    """Samples lost between two consecutive frames of a stream: ``round(Δts · fs) − n`` (PMD has no counter).

    0 when nothing was lost; a frame's worth or more means whole frames are missing. Small
    negative values are clock jitter.
    """
    return round((int(timestamp_ns) - int(previous_timestamp_ns)) * sample_rate_hz / 1e9) - int(n_samples)


# ------------------------------------------------------------------------------------------------
# Encoder (the emulated sensor)


def _le_bytes(values: np.ndarray, size: int) -> bytes:
    """int64 values → ``size``-byte two's-complement LE fields."""
    unsigned = values.reshape(-1, 1) & ((np.int64(1) << np.int64(8 * size)) - 1)
    return ((unsigned >> (8 * np.arange(size, dtype=np.int64))) & 0xFF).astype(np.uint8).tobytes()


def _min_width(deltas: np.ndarray) -> int:
    magnitude = int(np.max(np.where(deltas >= 0, deltas, ~deltas)))
    return magnitude.bit_length() + 1


def _pack_block(deltas: np.ndarray) -> bytes:
    """One delta block at the smallest bit width that holds every delta."""
    width = _min_width(deltas)
    flat = deltas.reshape(-1) & ((np.int64(1) << np.int64(width)) - 1)
    bits = ((flat[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8)
    return bytes([width, len(deltas)]) + np.packbits(bits.reshape(-1), bitorder="little").tobytes()


def encode_delta_content(samples: np.ndarray, resolution_bits: int = 16, block_size: int = 255,
                         wrap32: bool = False) -> bytes:
    """Integer samples (n, channels) → reference sample + delta blocks of at most ``block_size`` samples.

    ``wrap32`` takes deltas mod 2³² (float32 bit patterns, which the decoder sums mod 2³²).
    """
    samples = np.asarray(samples, dtype=np.int64)
    ref_size = _check_layout(samples.shape[1], resolution_bits)
    if not 1 <= block_size <= 255:
        raise ValueError(f"block size must be 1..255 samples, not {block_size}")
    deltas = np.diff(samples, axis=0)
    if wrap32:
        deltas = ((deltas + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    if len(deltas) and _min_width(deltas) > MAX_DELTA_BITS:
        raise ValueError("a delta does not fit 32 bits")
    blocks = [_pack_block(deltas[i:i + block_size]) for i in range(0, len(deltas), block_size)]
    return _le_bytes(samples[0], ref_size) + b"".join(blocks)


def encode_frame(measurement_type: int, timestamp_ns: int, samples_int: np.ndarray, compressed: bool = True,
                 frame_type: int | None = None, resolution_bits: int = 16, block_size: int = 255) -> bytes:
    """One PMD data notification, as the sensor builds it.

    Defaults are what the Verity sends: ACC compressed type 1 (``0x81``), GYRO compressed type 0
    (``0x80``), int16 reference + delta blocks at the minimal bit width per block. ``samples_int``
    is (n, 3) integer counts (see :func:`si_to_counts`); for GYRO type 1 it is float32 deg/s ÷ factor.
    ``timestamp_ns`` is the device time of the *last* sample (ns since 2000). Raises ValueError if
    the samples do not fit the frame.
    """
    if frame_type is None:
        frame_type = DEFAULT_FRAME_TYPE.get(measurement_type, -1)
    spec = _spec_or_value_error(measurement_type, compressed, frame_type)
    if not 0 <= int(timestamp_ns) < 1 << 64:
        raise ValueError(f"timestamp {timestamp_ns} ns does not fit u64")
    samples = np.asarray(samples_int)
    if samples.ndim != 2 or samples.shape[1] != 3 or len(samples) < 1:
        raise ValueError(f"samples must be (n >= 1, 3), not {samples.shape}")
    header = HEADER.pack(measurement_type, int(timestamp_ns), (COMPRESSED_BIT if compressed else 0) | frame_type)
    if spec.encoding == "float":
        values = samples.astype(np.float32)
        if not np.isfinite(values).all():
            raise ValueError("float gyro samples must be finite")
        patterns = values.view(np.int32).astype(np.int64)
        return header + encode_delta_content(patterns, 32, block_size, wrap32=True)
    bits = spec.bits or resolution_bits
    counts = _checked_ints(samples, bits)
    if spec.encoding == "raw":
        return header + _le_bytes(counts, bits // 8)
    return header + encode_delta_content(counts, bits, block_size)


def _checked_ints(samples: np.ndarray, bits: int) -> np.ndarray:
    if not np.issubdtype(samples.dtype, np.integer):
        raise ValueError(f"samples must be integer counts, not {samples.dtype}")
    counts = samples.astype(np.int64)
    limit = 1 << (bits - 1)
    if counts.min() < -limit or counts.max() >= limit:
        raise ValueError(f"sample outside the {bits}-bit range [{-limit}, {limit - 1}]")
    return counts
