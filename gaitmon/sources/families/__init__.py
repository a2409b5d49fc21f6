"""Sensor families gaitmon can stream from (see ``base`` for the interface)."""

from __future__ import annotations

from gaitmon.sources.families.base import ConfigurationError, SensorFamily, StreamSetup
from gaitmon.sources.families.diy import GaitmonDIY
from gaitmon.sources.families.movesense import Movesense
from gaitmon.sources.families.polar import PolarVeritySense
from gaitmon.sources.families.witmotion import WitMotion

#: name → family, in the order ``gaitmon scan`` tries them.
FAMILIES: dict[str, SensorFamily] = {family.name: family for family in (PolarVeritySense(), Movesense(), WitMotion(), GaitmonDIY())}


def family_for(local_name: str | None, service_uuids: list[str]) -> SensorFamily | None:
    """The family an advertisement belongs to, or None for an unsupported device."""
    for family in FAMILIES.values():
        if family.matches(local_name, service_uuids):
            return family
    return None


__all__ = ["FAMILIES", "ConfigurationError", "SensorFamily", "StreamSetup", "family_for"]
