"""The sensors gaitmon can stream from: one folder per family.

Each family folder holds ``protocol.py`` (pure functions of notification bytes: decoders and, for
emulation, encoders) and ``family.py`` (the GATT conversation: find, configure, subscribe). The
shared interfaces are :mod:`gaitmon.sensors.decoder` (Decoder, DecodedPacket) and
:mod:`gaitmon.sensors.family` (SensorFamily, StreamSetup, StreamSpec); this module is the registry.
Nothing here imports bleak: a connected client is passed in.
"""

from __future__ import annotations

from gaitmon.sensors.decoder import DecodedPacket, Decoder, DecodeStats, MalformedPacket
from gaitmon.sensors.family import ConfigurationError, DeviceInfo, SensorFamily, StreamSetup, StreamSpec
from gaitmon.sensors.diy.family import GaitmonDIY
from gaitmon.sensors.movesense.family import Movesense
from gaitmon.sensors.polar.family import PolarVeritySense
from gaitmon.sensors.witmotion.family import WitMotion

#: name → family, in the order ``gaitmon scan`` tries them.
FAMILIES: dict[str, SensorFamily] = {family.name: family for family in (PolarVeritySense(), Movesense(), WitMotion(), GaitmonDIY())}


def family_for(local_name: str | None, service_uuids: list[str]) -> SensorFamily | None:
    """The family an advertisement belongs to, or None for an unsupported device."""
    for family in FAMILIES.values():
        if family.matches(local_name, service_uuids):
            return family
    return None


__all__ = ["FAMILIES", "ConfigurationError", "DecodeStats", "DecodedPacket", "Decoder", "DeviceInfo", "MalformedPacket",
           "SensorFamily", "StreamSetup", "StreamSpec", "family_for"]
