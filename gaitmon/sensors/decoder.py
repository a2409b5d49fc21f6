"""The decoder contract: one module per sensor family, pure functions of bytes.

A decoder turns the payload of one BLE notification into samples in SI units plus whatever the
packet says about time (a device timestamp, a sample counter). It has no clock, no I/O and no
bleak types: the acquisition layer stamps the host receive time and maps device time onto the
host clock (``gaitmon/stream/timing.py``, with the acquisition issue). A malformed, short or over-long
packet raises :class:`MalformedPacket`; :class:`DecodeStats` counts them per sensor so the stream
skips them and never stops.

Adding a family (MetaWear is next) is one new module that implements :class:`Decoder`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Protocol

import numpy as np


class MalformedPacket(ValueError):
    """A notification that does not follow the family's layout (the message says how)."""


@dataclass(frozen=True)
class DecodedPacket:
    """Samples carried by one notification.

    Attributes
    ----------
    acc : ndarray (n, 3) float64 or None
        Specific force, m/s², sensor axes.
    gyro : ndarray (m, 3) float64 or None
        Angular velocity, rad/s, sensor axes.
    device_time_s : float or None
        Device timestamp of the *last* sample, seconds on the device clock (family-specific
        epoch, e.g. Polar: since 2000-01-01), or None if the family has no device time.
    counter : int or None
        Packet or sample counter as sent (not unwrapped), or None.
    kind : str
        ``"data"`` for samples; ``"reply"`` for a command response (then ``info`` says what).
    info : dict
        Anything else the packet states (frame type, status codes, rate …).
    """

    acc: np.ndarray | None = None
    gyro: np.ndarray | None = None
    device_time_s: float | None = None
    counter: int | None = None
    kind: str = "data"
    info: dict = field(default_factory=dict)


class Decoder(Protocol):
    """What every family module provides."""

    family: str

    def decode(self, data: bytes) -> DecodedPacket:
        """Decode one notification payload; raise :class:`MalformedPacket` if it is not valid."""


@dataclass
class DecodeStats:
    """Per-sensor counts: decoded packets and malformed ones (skipped, never raised).

    A decoder that parses a byte stream (WitMotion) can accept a notification that also holds
    junk: it states the junk runs in ``info["malformed_fragments"]``, and each counts as malformed.
    """

    packets: int = 0
    malformed: int = 0
    last_error: str = ""

    def decode(self, decoder: Decoder, data: bytes) -> DecodedPacket | None:
        """Decode, counting; returns None for a malformed packet."""
        try:
            packet = decoder.decode(bytes(data))
        except MalformedPacket as error:
            self.malformed += 1
            self.last_error = str(error)
            return None
        self.packets += 1
        self.malformed += packet.info.get("malformed_fragments", 0)
        return packet

    def count_batch(self, batch: DecodedBatch) -> None:
        """Count a :class:`DecodedBatch` exactly as :meth:`decode` would have counted its notifications."""
        malformed = batch.kind == MALFORMED
        self.packets += int(len(batch.kind) - malformed.sum())
        self.malformed += int(malformed.sum()) + int(batch.fragments.sum())
        if batch.errors:
            self.last_error = batch.errors[max(batch.errors)]


#: :attr:`DecodedBatch.kind` values.
DATA, REPLY, MALFORMED = 0, 1, 2


@dataclass(frozen=True)
class DecodedBatch:
    """N notifications of one stream, decoded at once (row order = notification order).

    Attributes
    ----------
    kind : ndarray (N,) int8
        :data:`DATA` (samples), :data:`REPLY` (a command response, no samples) or :data:`MALFORMED`
        (the notification raised :class:`MalformedPacket`: counted and skipped).
    acc_count, gyro_count : ndarray (N,) int64
        Rows each notification contributed (0 when it has none or is not data).
    acc : ndarray (sum acc_count, 3) float64 or None
        Specific force, m/s², sensor axes: the rows of the DATA notifications, concatenated in order.
    gyro : ndarray (sum gyro_count, 3) float64 or None
        Angular velocity, rad/s, likewise.
    device_time_s : ndarray (N,) float64 or None
        As :attr:`DecodedPacket.device_time_s`; NaN where a notification has none.
    counter : ndarray (N,) int64 or None
        As :attr:`DecodedPacket.counter`; -1 where a notification has none.
    fragments : ndarray (N,) int64
        Malformed fragments inside an otherwise decoded notification (``info["malformed_fragments"]``).
    errors : dict
        Notification index → :class:`MalformedPacket` message, for the MALFORMED rows.
    """

    kind: np.ndarray
    acc_count: np.ndarray
    gyro_count: np.ndarray
    acc: np.ndarray | None
    gyro: np.ndarray | None
    device_time_s: np.ndarray | None
    counter: np.ndarray | None
    fragments: np.ndarray
    errors: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.kind)


def decode_batch(decoder: Decoder, payloads: Sequence[bytes]) -> DecodedBatch:
    """Decode many notifications of one stream: ``decoder.decode_many`` when the family has it, else
    :meth:`Decoder.decode` per payload, which is the specification ``decode_many`` must equal bit for bit."""
    many = getattr(decoder, "decode_many", None)
    if many is not None:
        return many(payloads)
    return batch_of_packets(decoder, payloads)


def batch_of_packets(decoder: Decoder, payloads: Sequence[bytes]) -> DecodedBatch:
    """:func:`decode_batch` by one :meth:`Decoder.decode` call per payload (the reference implementation)."""
    return assemble_batch(len(payloads), (), decode_each(decoder, payloads, range(len(payloads))))


# --------------------------------------------------------------------------------------------------
# Assembling a batch (the reference above and the families' vectorised ``decode_many``)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayoutGroup:
    """DATA notifications that share one layout, decoded at once by a family's ``decode_many``.

    ``rows`` are their indices in the batch (increasing); ``acc``/``gyro`` are (len(rows), n, 3)
    float64 (n samples each), ``device_time_s`` (len(rows),) float64 and ``counter`` (len(rows),)
    int64, or None where the layout has none.
    """

    rows: np.ndarray
    acc: np.ndarray | None = None
    gyro: np.ndarray | None = None
    device_time_s: np.ndarray | None = None
    counter: np.ndarray | None = None


def by_length(payloads: Sequence[bytes]) -> tuple[np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """The payloads' lengths (N,), and for each length L > 0: (the rows of that length, their bytes as
    an (rows, L) uint8 matrix) — the first step of every vectorised decoder."""
    lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
    if len(lengths) and lengths.min() == lengths.max() > 0:
        flat = np.frombuffer(b"".join(payloads), dtype=np.uint8)
        return lengths, {int(lengths[0]): (np.arange(len(payloads)), flat.reshape(len(payloads), -1))}
    groups = {}
    for length in np.unique(lengths[lengths > 0]).tolist():
        rows = np.flatnonzero(lengths == length)
        joined = b"".join([payloads[row] for row in rows.tolist()])
        groups[length] = rows, np.frombuffer(joined, dtype=np.uint8).reshape(len(rows), length)
    return lengths, groups


def column(matrix: np.ndarray, offset: int, dtype: str, count: int | None = None) -> np.ndarray:
    """The bytes of a payload matrix from ``offset`` on read as ``dtype`` (little-endian): one value per
    row (rows,), or ``count`` values per row (rows, count)."""
    size = np.dtype(dtype).itemsize * (count or 1)
    values = np.ascontiguousarray(matrix[:, offset:offset + size]).view(dtype)
    return values.reshape(-1) if count is None else values


def decode_rest(decoder: Decoder, payloads: Sequence[bytes],
                groups: Sequence[LayoutGroup]) -> dict[int, DecodedPacket | MalformedPacket]:
    """:meth:`Decoder.decode` of the rows no group holds, in order: the packet, or the
    :class:`MalformedPacket` it raised."""
    grouped = np.zeros(len(payloads), dtype=bool)
    for group in groups:
        grouped[group.rows] = True
    return decode_each(decoder, payloads, np.flatnonzero(~grouped).tolist())


def decode_each(decoder: Decoder, payloads: Sequence[bytes], rows) -> dict[int, DecodedPacket | MalformedPacket]:
    """:meth:`Decoder.decode` of the given rows, in order: the packet, or the :class:`MalformedPacket` raised."""
    out: dict[int, DecodedPacket | MalformedPacket] = {}
    for row in rows:
        try:
            out[row] = decoder.decode(bytes(payloads[row]))
        except MalformedPacket as error:
            out[row] = error
    return out


def assemble_batch(n: int, groups: Sequence[LayoutGroup],
                   singles: dict[int, DecodedPacket | MalformedPacket]) -> DecodedBatch:
    """The :class:`DecodedBatch` of ``n`` notifications, each either in one of the ``groups`` or in
    ``singles`` (decoded one at once, :func:`decode_each`), equal to :func:`batch_of_packets`'s."""
    kind = np.zeros(n, dtype=np.int8)
    counts = {"acc": np.zeros(n, dtype=np.int64), "gyro": np.zeros(n, dtype=np.int64)}
    device_time = np.full(n, np.nan)
    counter = np.full(n, -1, dtype=np.int64)
    fragments = np.zeros(n, dtype=np.int64)
    errors: dict[int, str] = {}
    present = set()
    data: dict[int, DecodedPacket] = {}
    for group in groups:
        if not len(group.rows):
            continue
        for name in ("acc", "gyro"):
            values = getattr(group, name)
            if values is not None:
                present.add(name)
                counts[name][group.rows] = values.shape[1]
        if group.device_time_s is not None:
            present.add("time")
            device_time[group.rows] = group.device_time_s
        if group.counter is not None:
            present.add("counter")
            counter[group.rows] = group.counter
    for row, packet in singles.items():
        if isinstance(packet, MalformedPacket):
            kind[row] = MALFORMED
            errors[row] = str(packet)
            continue
        fragments[row] = packet.info.get("malformed_fragments", 0)
        if packet.kind != "data":
            kind[row] = REPLY
            continue
        data[row] = packet
        for name in ("acc", "gyro"):
            values = getattr(packet, name)
            if values is not None:
                present.add(name)
                counts[name][row] = len(values)
        if packet.device_time_s is not None:
            present.add("time")
            device_time[row] = packet.device_time_s
        if packet.counter is not None:
            present.add("counter")
            counter[row] = packet.counter
    samples = {}
    for name in ("acc", "gyro"):
        if name not in present:
            samples[name] = None
            continue
        whole = [group for group in groups if len(group.rows) == n and getattr(group, name) is not None]
        if whole:  # one layout for every notification: its samples are the batch's
            samples[name] = getattr(whole[0], name).reshape(-1, 3)
            continue
        starts = np.cumsum(counts[name]) - counts[name]
        out = samples[name] = np.empty((int(counts[name].sum()), 3))
        for group in groups:
            values = getattr(group, name)
            if values is not None and len(group.rows):
                out[(starts[group.rows, None] + np.arange(values.shape[1])).reshape(-1)] = values.reshape(-1, 3)
        for row, packet in data.items():
            values = getattr(packet, name)
            if values is not None:
                out[starts[row]:starts[row] + len(values)] = values.reshape(-1, 3)
    return DecodedBatch(kind, counts["acc"], counts["gyro"], samples["acc"], samples["gyro"],
                        device_time if "time" in present else None, counter if "counter" in present else None,
                        fragments, errors)
