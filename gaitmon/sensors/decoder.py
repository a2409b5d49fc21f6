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
