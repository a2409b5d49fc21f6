"""WitMotion WT901BLECL / BWT901BLE5.0: 20-byte packets in a byte stream, no time at all.

Facts from the protocol reference, section "(a) WitMotion" (sources: the vendor Python SDK
``WITMOTION/WitBluetooth_BWT901BLE5_0:Python/BWT901BLE5.0_python_sdk/device_model.py``, its Android
``DeviceModel.java`` and the WT901BLECL datasheet v20-0707 pp. 12–16):

- GATT: service ``0000ffe5-…``, notify ``0000ffe4-…``, write ``0000ffe9-…``, all on the base
  ``-0000-1000-8000-00805f9a34fb`` — **note ``9a34fb``, not the Bluetooth SIG ``9b34fb``**, so
  they must be matched as full 128-bit UUIDs, never as 16-bit ``ffe4``/``ffe9``.
- Packets, every value int16 LE, no checksum:
  ``55 61 | ax ay az | wx wy wz | roll pitch yaw`` (acc ×16/32768 g, gyro ×2000/32768 °/s,
  angle ×180/32768 °) and ``55 71 | start_reg u16 | 8 × int16`` (answer to a register read).
- Commands (write): ``FF AA <reg> <lo> <hi>``; read ``FF AA 27 <reg> 00``; unlock
  ``FF AA 69 88 B5``; save ``FF AA 00 00 00``; the return rate is register ``0x03``
  (:data:`RATE_CODES`). The vendor Android SDK writes the rate and sends save 100 ms later.
  The ranges are fixed at ±16 g and ±2000 °/s.

Timing and loss
    The packet carries neither a timestamp nor a counter. All timing must come from the host (the
    receive time, smoothed with a rate-based estimate: sample k at ``t0 + k/rate``), and lost
    packets cannot be counted from the data; only host-side gaps in arrival times hint at them.
    Hence ``device_time_s`` and ``counter`` are always None.

Byte stream and reassembly
    The vendor parser treats notifications as a byte stream, resynchronising on ``55 61``/``55 71``
    and cutting 20 bytes; a packet may be split across notifications and a notification may hold
    several packets. :class:`WitMotionDecoder` therefore keeps a reassembly buffer **per instance**
    (one instance per sensor; the vendor SDK's class-level buffer breaks with two sensors). It has
    state but no clock. The rules are documented on the class.
"""

from __future__ import annotations

import math

import numpy as np

from gaitmon.consts import STANDARD_GRAVITY
from gaitmon.sensors.decoder import (DecodedBatch, DecodedPacket, LayoutGroup, MalformedPacket, assemble_batch,
                                    by_length, column, decode_each)

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

HEADER = 0x55
TYPE_SAMPLE = 0x61
TYPE_REGISTERS = 0x71
PACKET_TYPES = (TYPE_SAMPLE, TYPE_REGISTERS)
PACKET_BYTES = 20
REGISTERS_PER_REPLY = 8

ACC_FULL_SCALE_G = 16.0
GYRO_FULL_SCALE_DPS = 2000.0
ANGLE_FULL_SCALE_DEG = 180.0
ACC_SCALE = ACC_FULL_SCALE_G * STANDARD_GRAVITY / 32768.0  # m/s² per count
GYRO_SCALE = math.radians(GYRO_FULL_SCALE_DPS) / 32768.0  # rad/s per count
ANGLE_SCALE = ANGLE_FULL_SCALE_DEG / 32768.0  # ° per count

COMMAND_PREFIX = b"\xff\xaa"
REG_SAVE = 0x00
REG_RATE = 0x03
REG_READ = 0x27
REG_MAGNETOMETER = 0x3A
REG_TEMPERATURE = 0x40
REG_QUATERNION = 0x51
REG_UNLOCK = 0x69
UNLOCK_VALUE = 0xB588
#: The vendor Android SDK sends save this long after the register write.
SAVE_DELAY_S = 0.1

#: Return-rate codes for register 0x03 (Hz → code); 10 Hz is the factory default.
RATE_CODES: dict[int, int] = {1: 0x03, 5: 0x05, 10: 0x06, 50: 0x08, 100: 0x09, 200: 0x0B}
SUPPORTED_RATES_HZ: tuple[int, ...] = tuple(RATE_CODES)
DEFAULT_RATE_HZ = 10


def write_register_command(register: int, value: int) -> bytes:
    """``FF AA <reg> <lo> <hi>``: write a 16-bit value (an int16 is written as its two's complement)."""
    if not 0 <= register <= 0xFF:
        raise ValueError(f"register must be 0..255, not {register}")
    if not -0x8000 <= value <= 0xFFFF:
        raise ValueError(f"value must fit 16 bits, not {value}")
    return COMMAND_PREFIX + bytes([register]) + (int(value) & 0xFFFF).to_bytes(2, "little")


def read_register_command(register: int) -> bytes:
    """``FF AA 27 <reg> 00``: the device answers with a ``55 71`` packet starting at ``register``."""
    return write_register_command(REG_READ, register)


def unlock_command() -> bytes:
    """``FF AA 69 88 B5``: must precede a register write (a sister product's manual: lasts 10 s)."""
    return write_register_command(REG_UNLOCK, UNLOCK_VALUE)


def save_command() -> bytes:
    """``FF AA 00 00 00``: make the written registers persistent."""
    return write_register_command(REG_SAVE, 0)


def rate_command(rate_hz: int) -> bytes:
    """Write the return-rate register 0x03 (see :data:`RATE_CODES`)."""
    if rate_hz not in RATE_CODES:
        raise ValueError(f"WitMotion rate must be one of {SUPPORTED_RATES_HZ} Hz, not {rate_hz}")
    return write_register_command(REG_RATE, RATE_CODES[rate_hz])


def setup_commands(rate_hz: int) -> list[tuple[bytes, float]]:
    """The writes that configure streaming, each with the pause to wait *after* it (s).

    Unlock, write the rate, then save 100 ms later (as the vendor SDK does). The device streams
    ``0x61`` packets as soon as notifications are on; there is no start command.
    """
    return [(unlock_command(), SAVE_DELAY_S), (rate_command(rate_hz), SAVE_DELAY_S), (save_command(), 0.0)]


def _is_header_at(buf: bytes, i: int) -> bool:
    """``55`` followed by a packet type, or a ``55`` that is the last byte (type not seen yet)."""
    return buf[i] == HEADER and (i + 1 == len(buf) or buf[i + 1] in PACKET_TYPES)


class WitMotionDecoder:
    """Reassembles the notification byte stream of one sensor into samples and register replies.

    Rules (the official parser's resync, plus a guard for truncated packets):

    1. **Resync.** Parsing goes on over ``pending + notification``. A packet starts at ``55 61`` or
       ``55 71`` (or a ``55`` that ends the notification); every other byte where a packet should
       start is *junk* and is skipped. From a header, 20 bytes are cut as one packet, whatever they
       contain (there is no checksum, so nothing inside is checked — as in the vendor parser).
    2. **Carry-over.** An incomplete packet at the end (≤ 19 bytes) is kept for the next
       notification; :meth:`reset` drops it (call it after a reconnect).
    3. **Truncation guard.** When a partial packet of ``p`` bytes is carried over and the new
       notification itself starts with a packet header, the partial is completed only if that is
       consistent: the byte at offset ``20 − p`` of the notification is past its end or starts a
       header. Otherwise the partial was truncated (its tail was lost): it is dropped as junk and
       parsing restarts at the notification's first byte. In a clean stream the byte at ``20 − p``
       is always the next header, so any split of clean packets into notifications decodes
       exactly as the whole packets. (Without a checksum the guard can still be fooled by data
       that happens to contain ``55 61``/``55 71`` at that offset.)
    4. **Reporting.** :meth:`decode` returns every complete ``0x61`` sample of the notification
       (``acc``/``gyro`` of shape (n, 3), n may be 0), angles in ``info["angles_deg"]``, register
       replies in ``info["registers"]`` (``{"start_register", "values"}``), the junk and dropped
       bytes in ``info["skipped_bytes"]`` and the number of junk runs / dropped partials in
       ``info["malformed_fragments"]``. Good samples are never discarded because of junk next to
       them; :attr:`malformed_fragments` and :attr:`skipped_bytes` add up over the stream.
    5. **Malformed.** :class:`MalformedPacket` is raised, after the state is updated, for an empty
       notification, and for one that completes no packet and leaves nothing pending — every byte it
       brought was junk — so :class:`~gaitmon.sensors.decoder.DecodeStats` counts it.

    Parameters
    ----------
    sample_rate_hz : float, optional
        The configured return rate. Not used for decoding (packets carry no time); kept so every
        family is built the same way and the acquisition layer can read it back.
    """

    family = "witmotion_ble5"

    def __init__(self, sample_rate_hz: float | None = None):
        self.sample_rate_hz = None if sample_rate_hz is None else float(sample_rate_hz)
        self._pending = b""
        self.malformed_fragments = 0
        self.skipped_bytes = 0

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete packet waiting for the next notification (0..19)."""
        return len(self._pending)

    def reset(self) -> None:
        """Forget any partial packet (after a reconnect); the counters are kept."""
        self._pending = b""

    def decode(self, data: bytes) -> DecodedPacket:
        data = bytes(data)
        if not data:
            raise MalformedPacket("empty notification")
        carried = self._pending
        stream = carried + data
        i = skipped = fragments = truncated = 0
        if carried and _is_header_at(data, 0) and not self._continues(len(carried), data):
            i = len(carried)
            skipped, fragments, truncated = len(carried), 1, 1
        samples: list[bytes] = []
        registers: list[dict] = []
        in_junk = False
        while i < len(stream):
            if _is_header_at(stream, i):
                if i + PACKET_BYTES > len(stream):
                    break
                packet = stream[i:i + PACKET_BYTES]
                if packet[1] == TYPE_SAMPLE:
                    samples.append(packet)
                else:
                    values = np.frombuffer(packet, dtype="<i2", offset=4).tolist()
                    registers.append({"start_register": int.from_bytes(packet[2:4], "little"), "values": values})
                i += PACKET_BYTES
                in_junk = False
            else:
                skipped += 1
                fragments += not in_junk
                in_junk = True
                i += 1
        self._pending = stream[i:]
        self.skipped_bytes += skipped
        self.malformed_fragments += fragments
        if not samples and not registers and not self._pending:
            raise MalformedPacket(f"no WitMotion packet (55 61 / 55 71) in {skipped} bytes")
        raw = np.frombuffer(b"".join(p[2:] for p in samples), dtype="<i2").reshape(-1, 9).astype(np.float64)
        info = {"angles_deg": raw[:, 6:9] * ANGLE_SCALE, "registers": registers, "skipped_bytes": skipped,
                "malformed_fragments": fragments, "truncated": truncated, "pending_bytes": len(self._pending)}
        kind = "reply" if registers and not samples else "data"
        return DecodedPacket(acc=raw[:, 0:3] * ACC_SCALE, gyro=raw[:, 3:6] * GYRO_SCALE, kind=kind, info=info)

    def decode_many(self, payloads) -> DecodedBatch:
        """:func:`~gaitmon.sensors.decoder.decode_batch` of many notifications, equal bit for bit to
        :meth:`decode` of each in turn (the reassembly state, :attr:`malformed_fragments` and
        :attr:`skipped_bytes` included).

        A *clean* notification — whole ``55 61`` packets only, nothing pending before it — leaves
        nothing pending, so a stretch of clean notifications is decoded in one numpy pass per length.
        The others (junk, register replies, split packets) and the notifications after them, until
        nothing is pending, go through :meth:`decode` in order.
        """
        lengths, groups = by_length(payloads)
        clean = np.zeros(len(payloads), dtype=bool)
        for length, (rows, matrix) in groups.items():
            if length % PACKET_BYTES == 0:
                heads = matrix.reshape(len(rows), -1, PACKET_BYTES)
                clean[rows] = ((heads[:, :, 0] == HEADER) & (heads[:, :, 1] == TYPE_SAMPLE)).all(axis=1)
        singles: dict = {}
        resume = self._decode_until_settled(payloads, 0, singles) if self._pending and len(payloads) else 0
        for row in np.flatnonzero(~clean).tolist():
            if row >= resume:
                resume = self._decode_until_settled(payloads, row, singles)
        fast = clean.copy()
        fast[list(singles)] = False
        layouts = []
        for length, (rows, matrix) in groups.items():
            chosen = fast[rows]
            if chosen.any():
                raw = column(matrix[chosen], 0, "<i2", length // 2).reshape(-1, length // PACKET_BYTES, 10)
                raw = raw[:, :, 1:].astype(np.float64)  # after the 55 61 of each packet
                layouts.append(LayoutGroup(rows[chosen], acc=raw[:, :, 0:3] * ACC_SCALE,
                                           gyro=raw[:, :, 3:6] * GYRO_SCALE))
        return assemble_batch(len(payloads), layouts, singles)

    def _decode_until_settled(self, payloads, row: int, singles: dict) -> int:
        """:meth:`decode` from ``row`` on until nothing is pending; returns the next row."""
        singles.update(decode_each(self, payloads, [row]))
        row += 1
        while self._pending and row < len(payloads):
            singles.update(decode_each(self, payloads, [row]))
            row += 1
        return row

    @staticmethod
    def _continues(carried: int, data: bytes) -> bool:
        """Rule 3: can a carried partial of ``carried`` bytes be completed by ``data``?"""
        offset = PACKET_BYTES - carried
        return offset >= len(data) or _is_header_at(data, offset)


def _counts(values, scale: float, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).reshape(3)
    if np.isnan(values).any():
        raise ValueError(f"{name} contains NaN")
    return np.clip(np.rint(values / scale), -32768, 32767).astype("<i2")


def encode_sample(acc_m_s2, gyro_rad_s, angles_deg=(0.0, 0.0, 0.0)) -> bytes:
    """One ``55 61`` packet (20 bytes) as the sensor sends it; values are clipped to the int16 range."""
    counts = np.concatenate([_counts(acc_m_s2, ACC_SCALE, "acc"), _counts(gyro_rad_s, GYRO_SCALE, "gyro"),
                             _counts(angles_deg, ANGLE_SCALE, "angles")])
    return bytes([HEADER, TYPE_SAMPLE]) + counts.tobytes()


def encode_register_reply(start_register: int, values) -> bytes:
    """One ``55 71`` packet: ``start_register`` then up to 8 int16 register values (zero-padded)."""
    values = [int(v) for v in values]
    if len(values) > REGISTERS_PER_REPLY or not all(-0x8000 <= v <= 0x7FFF for v in values):
        raise ValueError(f"up to {REGISTERS_PER_REPLY} int16 values, not {values}")
    if not 0 <= start_register <= 0xFFFF:
        raise ValueError(f"start register must fit uint16, not {start_register}")
    padded = np.array(values + [0] * (REGISTERS_PER_REPLY - len(values)), dtype="<i2")
    return bytes([HEADER, TYPE_REGISTERS]) + int(start_register).to_bytes(2, "little") + padded.tobytes()
