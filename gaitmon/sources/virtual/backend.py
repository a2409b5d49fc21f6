"""A bleak backend for emulated sensors, passed through bleak's own ``backend=`` hook.

:class:`VirtualAir` holds the emulated peripherals; ``air.scanner_backend`` and ``air.client_backend``
are :class:`bleak.backends.scanner.BaseBleakScanner` / :class:`bleak.backends.client.BaseBleakClient`
subclasses bound to that air. ``BleakScanner(backend=air.scanner_backend)`` and
``BleakClient(device, backend=air.client_backend)`` then behave like the real thing — advertisements,
GATT discovery, writes, reads, notifications, a link that drops — so gaitmon's acquisition code runs
unchanged: the only difference between live and emulated is the backend class.

This module and ``gaitmon/sources/ble.py`` are the only ones that import bleak.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import (BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDeviceNotFoundError,
                       BleakError, BleakGATTProtocolError)

from gaitmon.sources.virtual.peripheral import GattError, VirtualPeripheral

ADVERTISING_INTERVAL_S = 0.1
MTU = 247


class VirtualAir:
    """The emulated radio environment: peripherals in range and the clock origin of the simulation.

    The simulation's t = 0 is the loop time at which the air is first used (a scan or a connect),
    so a session starts with the simulator's standing phase while gaitmon connects.
    ``unavailable`` (a :class:`bleak.exc.BleakBluetoothNotAvailableReason`, e.g. ``POWERED_OFF``)
    makes scans and connections fail the way bleak's BlueZ backend does without a usable adapter.
    """

    def __init__(self, peripherals: list[VirtualPeripheral]):
        self.unavailable: BleakBluetoothNotAvailableReason | None = None
        self.peripherals = {p.address.upper(): p for p in peripherals}
        for peripheral in peripherals:
            peripheral.air = self
        self._origin: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        air = self
        self.scanner_backend = type("VirtualBleakScanner", (VirtualBleakScanner,), {"air": air})
        self.client_backend = type("VirtualBleakClient", (VirtualBleakClient,), {"air": air})

    def _loop_now(self) -> float:
        self._loop = asyncio.get_running_loop()
        now = self._loop.time()
        if self._origin is None:
            self._origin = now
        return now

    def sim_time(self) -> float:
        """Seconds since the simulation's t = 0."""
        now = self._loop_now()
        return now - self._origin

    def loop_time(self, sim_s: float) -> float:
        """Loop clock time of sim time ``sim_s``."""
        self._loop_now()
        return self._origin + sim_s

    @property
    def origin(self) -> float | None:
        return self._origin

    def call_soon(self, callback: Callable[..., None], *args) -> None:
        """Run ``callback(*args)`` on the loop that last used the air (from any thread); RuntimeError
        when no loop has used it yet or that loop has closed."""
        if self._loop is None:
            raise RuntimeError("the emulated air has not been used by an event loop yet")
        self._loop.call_soon_threadsafe(callback, *args)

    def find(self, address: str) -> VirtualPeripheral | None:
        return self.peripherals.get(address.upper())

    def check_adapter(self) -> None:
        """Raise what bleak raises when the laptop has no usable Bluetooth adapter (see ``unavailable``)."""
        if self.unavailable is not None:
            raise BleakBluetoothNotAvailableError(f"Bluetooth not available ({self.unavailable.name})", self.unavailable)


class VirtualBleakScanner(BaseBleakScanner):
    """Scanner backend: every available peripheral advertises every 100 ms while scanning."""

    air: VirtualAir

    def __init__(self, detection_callback, service_uuids, scanning_mode="active", **kwargs: Any):
        super().__init__(detection_callback, service_uuids)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self.air.check_adapter()
        self.seen_devices = {}
        self._task = asyncio.get_running_loop().create_task(self._advertise())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _advertise(self) -> None:
        while True:
            for peripheral in self.air.peripherals.values():
                if not peripheral.available or peripheral._link is not None:
                    continue
                uuids = [u.lower() for u in peripheral.advertised_uuids]
                if not self.is_allowed_uuid(uuids):
                    continue
                adv = AdvertisementData(local_name=peripheral.name, manufacturer_data={}, service_data={},
                                        service_uuids=uuids, tx_power=None, rssi=peripheral.rssi,
                                        platform_data=())
                device = self.create_or_update_device(peripheral.address, peripheral.address, peripheral.name,
                                                      peripheral, adv)
                self.call_detection_callbacks(device, adv)
            await asyncio.sleep(ADVERTISING_INTERVAL_S)


class VirtualBleakClient(BaseBleakClient):
    """Client backend: a GATT connection to one emulated peripheral."""

    air: VirtualAir

    def __init__(self, address_or_ble_device: BLEDevice | str, *, disconnected_callback: Callable[[], None] | None,
                 timeout: float, services=None, **kwargs: Any):
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._peripheral: VirtualPeripheral | None = None
        self._callbacks: dict[str, Callable[[bytearray], None]] = {}
        self._connected = False

    # -- connection ------------------------------------------------------------------------------------
    @property
    def mtu_size(self) -> int:
        return MTU

    @property
    def name(self) -> str:
        peripheral = self.air.find(self.address)
        return peripheral.name if peripheral else self.address

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        self.air.check_adapter()
        peripheral = self.air.find(self.address)
        if peripheral is None:
            raise BleakDeviceNotFoundError(self.address, f"Device with address {self.address} was not found.")
        await asyncio.sleep(peripheral.CONNECT_S)
        if not peripheral.available:
            raise BleakError(f"{self.address}: connection attempt timed out (device not reachable)")
        if peripheral._link is not None:
            raise BleakError(f"{self.address}: already connected to another central")
        self._peripheral = peripheral
        self.services = _service_collection(peripheral)
        self._callbacks.clear()
        self._connected = True
        peripheral.attach(self)

    async def disconnect(self) -> None:
        if self._connected and self._peripheral is not None:
            self._connected = False
            self._peripheral.detach()
            await asyncio.sleep(0)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        pass

    async def unpair(self) -> None:
        pass

    @property
    def is_connected(self) -> bool:
        return self._connected

    def peripheral_dropped(self) -> None:
        """Called by the peripheral when the link is lost on its side (supervision timeout)."""
        if not self._connected:
            return
        self._connected = False
        self._callbacks.clear()
        if self._disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    # -- GATT ---------------------------------------------------------------------------------------------
    def _require(self) -> VirtualPeripheral:
        if not self._connected or self._peripheral is None:
            raise BleakError("Not connected")
        return self._peripheral

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        peripheral = self._require()
        await asyncio.sleep(peripheral.ROUND_TRIP_S)
        try:
            return bytearray(peripheral.on_read(characteristic.uuid))
        except GattError as error:
            raise BleakGATTProtocolError(error.code) from error

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        raise BleakGATTProtocolError(0x02)

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data, response: bool) -> None:
        peripheral = self._require()
        if response:
            await asyncio.sleep(peripheral.ROUND_TRIP_S)
        try:
            peripheral.on_write(characteristic.uuid, bytes(data))
        except GattError as error:
            if response:
                raise BleakGATTProtocolError(error.code) from error

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data) -> None:
        raise BleakGATTProtocolError(0x03)

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: Callable[[bytearray], None],
                           **kwargs: Any) -> None:
        peripheral = self._require()
        if "notify" not in characteristic.properties:
            raise BleakGATTProtocolError(0x03)
        await asyncio.sleep(peripheral.ROUND_TRIP_S)
        self._callbacks[characteristic.uuid] = callback
        peripheral.subscribe(characteristic.uuid, True)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peripheral = self._require()
        self._callbacks.pop(characteristic.uuid, None)
        peripheral.subscribe(characteristic.uuid, False)

    def deliver(self, char_uuid: str, data: bytes) -> bool:
        """A notification arrives from the peripheral (scheduled by it on the loop); False if nobody listens."""
        callback = self._callbacks.get(char_uuid)
        if self._connected and callback is not None:
            callback(bytearray(data))
            return True
        return False


def _service_collection(peripheral: VirtualPeripheral) -> BleakGATTServiceCollection:
    collection = BleakGATTServiceCollection()
    handle = 1
    for service in peripheral.services:
        bleak_service = BleakGATTService(None, handle, service.uuid.lower())
        collection.add_service(bleak_service)
        handle += 1
        for char in service.characteristics:
            bleak_char = BleakGATTCharacteristic(None, handle + 1, char.uuid.lower(), list(char.properties),
                                                 lambda: MTU - 3, bleak_service)
            collection.add_characteristic(bleak_char)
            handle += 2
            if "notify" in char.properties:
                cccd = BleakGATTDescriptor(None, handle, "00002902-0000-1000-8000-00805f9b34fb", bleak_char)
                collection.add_descriptor(cccd)
                handle += 1
    return collection
