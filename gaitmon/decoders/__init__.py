"""Decoders: one module per sensor family, pure functions of notification bytes (see ``base``)."""

from gaitmon.decoders.base import DecodedPacket as DecodedPacket
from gaitmon.decoders.base import Decoder as Decoder
from gaitmon.decoders.base import DecodeStats as DecodeStats
from gaitmon.decoders.base import MalformedPacket as MalformedPacket

__all__ = ["DecodeStats", "DecodedPacket", "Decoder", "MalformedPacket"]
