"""What gaitmon says to a sensor of one family over GATT: find it, configure it, subscribe, stop.

A :class:`SensorFamily` talks to a connected client through bleak's client API (``start_notify``,
``write_gatt_char``, ``read_gatt_char``) without importing bleak — the client is passed in, so the
same code drives a real sensor and an emulated one. It returns a :class:`StreamSetup`: which
characteristic carries which stream and the settings its decoders need (e.g. Polar's FACTOR from the
start reply). The setup is plain data, so a recorded session can rebuild the exact decoders later.

Adding a family (MetaWear is next) is a folder ``gaitmon/sensors/<family>/`` with ``protocol.py``
(bytes ↔ numbers) and ``family.py`` (this interface), its entry in ``gaitmon/sensors/__init__.py``
and, for tests and the demo, its emulated device in ``sources/virtual/devices.py``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from gaitmon.sensors.decoder import Decoder

log = logging.getLogger(__name__)

BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFORMATION_SERVICE_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
#: The Device Information Service's strings gaitmon reads: :class:`DeviceInfo` field → (characteristic
#: UUID, what the Bluetooth SIG calls it, without "String").
DEVICE_INFORMATION = {
    "manufacturer": ("00002a29-0000-1000-8000-00805f9b34fb", "manufacturer name"),
    "model": ("00002a24-0000-1000-8000-00805f9b34fb", "model number"),
    "serial_number": ("00002a25-0000-1000-8000-00805f9b34fb", "serial number"),
    "firmware": ("00002a26-0000-1000-8000-00805f9b34fb", "firmware revision"),
    "hardware": ("00002a27-0000-1000-8000-00805f9b34fb", "hardware revision"),
    "software": ("00002a28-0000-1000-8000-00805f9b34fb", "software revision"),
}
#: Longest device information string kept (characters): names and version numbers are short, and
#: whatever a sensor sends ends up in session files and BIDS sidecars.
DEVICE_INFO_MAX_CHARS = 64
#: How long one device information read may take, s (a read is one ATT round trip, tens of ms).
DEVICE_INFO_READ_TIMEOUT_S = 1.0

#: ``on_data(stream_key, payload)``: called from the notification callback; the caller stamps host time.
DataSink = Callable[[str, bytes], None]
#: ``on_stopped(reason)``: the sensor announced that it stopped streaming by itself.
StopSink = Callable[[str], None]


@dataclass
class StreamSpec:
    """How one notification stream of a sensor is timed.

    Attributes
    ----------
    channels : {"imu", "acc", "gyro"}
        What the stream's packets carry (``imu``: both, one row per sample).
    clock : {"device", "arrival"}
        Whether packets carry device time, or are timed by arrival order only.
    device_time_modulus_s : float or None
        Wrap period of the device clock as decoded (None: no wrap, or no device time).
    resolution_s : float
        Tick of the device clock (Movesense: 1 ms). Indices computed from a coarse clock are
        snapped onto the stream's packet grid when they are within the clock's resolution of it.
    """

    channels: str = "imu"
    clock: str = "device"
    device_time_modulus_s: float | None = None
    resolution_s: float = 0.0


@dataclass(frozen=True)
class DeviceInfo:
    """What a sensor says about itself in the standard Device Information Service (0x180A).

    Each field is the text of one characteristic as :func:`device_info_text` cleans it, or ``""``
    when the sensor did not tell (no such service or characteristic, or its read failed).
    """

    manufacturer: str = ""
    model: str = ""
    serial_number: str = ""
    firmware: str = ""
    hardware: str = ""
    software: str = ""


def device_info_text(data: bytes) -> str:
    """A Device Information string as gaitmon keeps it: the bytes before the first NUL (C firmware
    pads with NULs, or leaves junk after the terminator) as UTF-8 with undecodable bytes replaced by
    U+FFFD, control characters as spaces, runs of white space as one space, stripped, and cut to
    :data:`DEVICE_INFO_MAX_CHARS` characters."""
    text = bytes(data).split(b"\0", 1)[0].decode("utf-8", errors="replace")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text[:DEVICE_INFO_MAX_CHARS].rstrip()


class ConfigurationError(RuntimeError):
    """The sensor refused the configuration (e.g. an unsupported rate): retrying will not help."""


@dataclass
class StreamSetup:
    """How a started sensor streams: plain data, JSON-serialisable (recorded with the session).

    Attributes
    ----------
    family : str
    rate_hz : float
        Sample rate on the sensor's clock.
    streams : dict
        stream key (``"imu"``, or ``"acc"`` and ``"gyro"``) → characteristic UUID.
    settings : dict
        Decoder settings reported by the sensor at start (scale factors …).
    """

    family: str
    rate_hz: float
    streams: dict[str, str]
    settings: dict[str, Any] = field(default_factory=dict)


class Replies:
    """Collects a control characteristic's notifications, to await the reply to each command."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()

    def __call__(self, _characteristic, data: bytearray) -> None:
        self._queue.put_nowait(bytes(data))

    async def next(self, timeout_s: float = 2.0) -> bytes:
        try:
            return await asyncio.wait_for(self._queue.get(), timeout_s)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no reply from the sensor within {timeout_s:g} s") from None


class SensorFamily:
    """Base class of the families; see the module docstring."""

    name: str = ""
    #: Human name for listings.
    label: str = ""
    #: Who makes the family's sensors (BIDS ``Manufacturer``).
    manufacturer: str = ""
    service_uuid: str = ""
    #: Local-name prefixes the family's sensors advertise.
    name_prefixes: tuple[str, ...] = ()
    #: Rates (Hz) the family streams at, and the one used when none is asked for.
    rates: tuple[float, ...] = ()
    default_rate: float = 0.0
    #: Drop a notification identical to the previous one (families with neither counter nor device time).
    dedupe_identical: bool = False

    def matches(self, local_name: str | None, service_uuids: list[str]) -> bool:
        """Whether an advertisement is from a sensor of this family."""
        if self.service_uuid.lower() in (u.lower() for u in service_uuids):
            return True
        return bool(local_name) and local_name.startswith(self.name_prefixes)

    def choose_rate(self, requested: float | None) -> float:
        """The supported rate for a request: exact if offered, else the lowest one above it."""
        if requested is None:
            return self.default_rate
        above = [r for r in self.rates if r >= requested - 1e-9]
        if not above:
            raise ConfigurationError(f"{self.label} streams at most {max(self.rates):g} Hz, not {requested:g} Hz")
        return min(above)

    async def start(self, client, rate_hz: float, on_data: DataSink, on_stopped: StopSink | None = None) -> StreamSetup:
        """Configure and start streaming on a connected client; returns the setup. A family whose
        sensors announce that they stopped streaming by themselves calls ``on_stopped`` then."""
        raise NotImplementedError

    async def stop(self, client) -> None:
        """Stop streaming (before a deliberate disconnect)."""

    def decoders(self, setup: StreamSetup) -> dict[str, Decoder]:
        """A fresh decoder per stream for this setup (decoders may hold reassembly state)."""
        raise NotImplementedError

    def stream_specs(self, setup: StreamSetup) -> dict[str, StreamSpec]:
        """How each stream is timed (see :class:`StreamSpec`)."""
        raise NotImplementedError

    async def read_battery(self, client) -> int | None:
        """Battery level in %, from the standard Battery Service when the sensor has one."""
        services = client.services
        if services is None or services.get_characteristic(BATTERY_LEVEL_UUID) is None:
            return None
        data = await client.read_gatt_char(BATTERY_LEVEL_UUID)
        return int(data[0]) if data else None

    async def read_device_info(self, client) -> DeviceInfo:
        """What the sensor tells in the standard Device Information Service, each string cleaned by
        :func:`device_info_text`. A missing service or characteristic is not known; so is a read
        that fails or takes longer than :data:`DEVICE_INFO_READ_TIMEOUT_S` (logged): the strings
        only describe the sensor, so no failure here stops a connection."""
        services = client.services
        values = {}
        for name, (uuid, what) in DEVICE_INFORMATION.items():
            if services is None or services.get_characteristic(uuid) is None:
                continue
            try:
                data = await asyncio.wait_for(client.read_gatt_char(uuid), DEVICE_INFO_READ_TIMEOUT_S)
            except asyncio.TimeoutError:
                log.warning("%s: no answer to reading its %s within %g s: not known",
                            client.address, what, DEVICE_INFO_READ_TIMEOUT_S)
                continue
            except Exception as error:  # bleak's errors: this layer does not import bleak
                log.warning("%s: reading its %s failed (%s: %s): not known",
                            client.address, what, type(error).__name__, error)
                continue
            text = device_info_text(data)
            if len(data) > DEVICE_INFO_MAX_CHARS or "\ufffd" in text:
                log.info("%s: its %s is %d bytes, not all of it readable text: kept %r",
                         client.address, what, len(data), text)
            values[name] = text
        return DeviceInfo(**values)

