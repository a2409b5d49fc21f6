"""A fake ``bluetoothd`` on a private D-Bus: gaitmon's emulated sensors behind BlueZ's D-Bus API.

bleak's BlueZ backend runs unchanged against it: it finds ``org.bluez`` on the bus named by
``DBUS_SYSTEM_BUS_ADDRESS`` and sees one powered adapter, ``/org/bluez/hci0``. While a client
discovers, every emulated peripheral (:class:`gaitmon.sources.virtual.peripheral.VirtualPeripheral`)
that is in range and not connected "advertises" every 100 ms: its ``org.bluez.Device1`` object is
added (``InterfacesAdded``), then its ``RSSI`` is re-sent (``PropertiesChanged``). ``Connect`` attaches
the peripheral, adds its GATT table as ``GattService1`` / ``GattCharacteristic1`` /
``GattDescriptor1`` objects and sets ``ServicesResolved``; ``ReadValue``, ``WriteValue``,
``StartNotify`` and ``StopNotify`` go to the peripheral, and every notification it sends — with
the faults it injects — leaves as a ``PropertiesChanged`` of the characteristic's ``Value``. A link
that drops takes the GATT objects away and clears ``Connected``.

What it copies from BlueZ because a client can tell the difference:

* a successful ``ReadValue`` also emits ``PropertiesChanged`` of ``Value``, so a client subscribed
  with ``StartNotify`` receives the read value as a notification too;
* the Battery Service (0x180F) is claimed by BlueZ's battery plugin: it is not exported as GATT
  objects; the level is ``org.bluez.Battery1.Percentage`` on the connected device instead;
* the Device Information Service (0x180A) is exported like any other service: BlueZ's deviceinfo
  plugin claims it but lets clients read it (the plugin's ``external`` flag, BlueZ commit 0cef5a7996db;
  since December 2024 the ``[GATT] ExportClaimedServices`` setting, default ``read-only``);
* ATT errors become BlueZ's D-Bus errors (``NotPermitted`` "Read not permitted" …,
  ``Failed`` "Operation failed with ATT error: 0x..");
* a write without response ("command") is answered at once and its ATT errors are lost;
* GATT object paths end in ``serviceXXXX`` / ``charXXXX`` / ``descXXXX`` (hex handles).

Not emulated: pairing, agents, ``AcquireNotify`` / ``AcquireWrite`` (bleak uses ``StartNotify``
unless told otherwise), advertisement monitors (passive scanning), per-client discovery
sessions (a count of ``StartDiscovery`` calls stands in), and the removal of devices that stop
advertising. Written for the tests from BlueZ's D-Bus API documentation and bleak's calls.
"""

import asyncio
import contextlib
import itertools
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from dbus_fast import BusType, DBusError, RequestNameReply
from dbus_fast.aio import MessageBus
from dbus_fast.constants import NameFlag, PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

from gaitmon.sources.virtual.backend import ADVERTISING_INTERVAL_S, MTU
from gaitmon.sources.virtual.peripheral import BATTERY_SERVICE_UUID, GattError, VirtualPeripheral

ADAPTER_PATH = "/org/bluez/hci0"
ADAPTER_ADDRESS = "00:1A:7D:DA:71:13"
CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
#: Services BlueZ's own plugins claim (not exported as GATT objects).
CLAIMED_SERVICES = frozenset({BATTERY_SERVICE_UUID})

READ = PropertyAccess.READ


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>gaitmon-test-system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


def dbus_daemon() -> str | None:
    """The ``dbus-daemon`` executable (Debian package ``dbus``), or None."""
    return shutil.which("dbus-daemon")


@contextlib.contextmanager
def private_bus(folder: Path) -> Iterator[str]:
    """A ``dbus-daemon`` of our own, listening on a socket in ``folder``; yields its address.

    Nothing else is on it: it stands in for the system bus (``DBUS_SYSTEM_BUS_ADDRESS``).
    """
    folder = Path(folder)
    config = folder / "bus.conf"
    config.write_text(BUS_CONFIG.format(socket=folder / "system_bus_socket"), encoding="utf-8")
    # (it warns there when it may not raise its fd limit)
    with open(folder / "dbus-daemon.log", "w", encoding="utf-8") as log:
        daemon = subprocess.Popen([dbus_daemon(), "--config-file", str(config), "--nofork", "--nopidfile",
                                   "--print-address"], stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        address = daemon.stdout.readline().strip()
        if not address:
            raise RuntimeError(f"dbus-daemon exited ({daemon.wait(5)}) without an address; see {log.name}")
        yield address
    finally:
        daemon.terminate()
        daemon.wait(10)
        daemon.stdout.close()


def _error(name: str, text: str) -> DBusError:
    return DBusError(f"org.bluez.Error.{name}", text)


def att_error(code: int) -> DBusError:
    """The D-Bus error BlueZ returns for an ATT error ``code``."""
    if code == 0x02:
        return _error("NotPermitted", "Read not permitted")
    if code == 0x03:
        return _error("NotPermitted", "Write not permitted")
    if code == 0x06:
        return _error("NotSupported", "Operation is not supported")
    return _error("Failed", f"Operation failed with ATT error: 0x{code:02x}")


def device_path(address: str) -> str:
    return f"{ADAPTER_PATH}/dev_{address.upper().replace(':', '_')}"


class Adapter(ServiceInterface):
    """``org.bluez.Adapter1``: discovery."""

    def __init__(self, bluez: "FakeBluez"):
        super().__init__("org.bluez.Adapter1")
        self.bluez = bluez
        self.discovery_sessions = 0
        self.uuid_filter: set[str] = set()

    @dbus_method()
    def StartDiscovery(self):  # noqa: N802 (D-Bus names)
        self.discovery_sessions += 1
        if self.discovery_sessions == 1:
            self.bluez.discovery_started()
            self.emit_properties_changed({"Discovering": True})

    @dbus_method()
    def StopDiscovery(self):  # noqa: N802
        if self.discovery_sessions == 0:
            raise _error("Failed", "No discovery started")
        self.discovery_sessions -= 1
        if self.discovery_sessions == 0:
            self.bluez.discovery_stopped()
            self.emit_properties_changed({"Discovering": False})

    @dbus_method()
    def SetDiscoveryFilter(self, filters: "a{sv}"):  # noqa: N802, F821
        uuids = filters.get("UUIDs")
        self.uuid_filter = {u.lower() for u in uuids.value} if uuids is not None else set()

    @dbus_method()
    def GetDiscoveryFilters(self) -> "as":  # noqa: N802, F821
        return ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable", "Pattern"]

    @dbus_method()
    def RemoveDevice(self, path: "o"):  # noqa: N802, F821
        if not self.bluez.remove_device(path):
            raise _error("DoesNotExist", "Does Not Exist")

    @dbus_property(access=READ)
    def Address(self) -> "s":  # noqa: N802, F821
        return ADAPTER_ADDRESS

    @dbus_property(access=READ)
    def AddressType(self) -> "s":  # noqa: N802, F821
        return "public"

    @dbus_property(access=READ)
    def Name(self) -> "s":  # noqa: N802, F821
        return "fake-bluez"

    @dbus_property(access=READ)
    def Alias(self) -> "s":  # noqa: N802, F821
        return "fake-bluez"

    @dbus_property(access=READ)
    def Powered(self) -> "b":  # noqa: N802, F821
        return True

    @dbus_property(access=READ)
    def Discovering(self) -> "b":  # noqa: N802, F821
        return self.discovery_sessions > 0

    @dbus_property(access=READ)
    def Roles(self) -> "as":  # noqa: N802, F821
        return ["central", "peripheral"]

    @dbus_property(access=READ)
    def UUIDs(self) -> "as":  # noqa: N802, F821
        return []


class Battery(ServiceInterface):
    """``org.bluez.Battery1``: BlueZ's battery plugin reads the Battery Service for the clients."""

    def __init__(self, peripheral: VirtualPeripheral):
        super().__init__("org.bluez.Battery1")
        self.peripheral = peripheral

    @dbus_property(access=READ)
    def Percentage(self) -> "y":  # noqa: N802, F821
        return self.peripheral.battery_pct


class _Link:
    """One connection as the peripheral sees it: closed for good once the link is down."""

    def __init__(self, device: "Device"):
        self.device = device
        self.open = True

    def deliver(self, char_uuid: str, data: bytes) -> bool:
        return self.open and self.device.notify(char_uuid, data)

    def peripheral_dropped(self) -> None:
        if self.open:
            self.device.link_down()


class Device(ServiceInterface):
    """``org.bluez.Device1`` of one emulated peripheral, and its GATT objects while connected."""

    def __init__(self, bluez: "FakeBluez", peripheral: VirtualPeripheral):
        super().__init__("org.bluez.Device1")
        self.bluez = bluez
        self.peripheral = peripheral
        self.path = device_path(peripheral.address)
        self.exported = False
        self.link: _Link | None = None
        self.connecting = False
        self.services_resolved = False
        self.gatt: dict[str, ServiceInterface] = {}  # object path → exported GATT interface
        self.characteristics: dict[str, "Characteristic"] = {}  # peripheral's UUID → characteristic
        self.battery: Battery | None = None
        #: Every notification sent over D-Bus: (characteristic UUID, bytes), in order.
        self.sent: list[tuple[str, bytes]] = []

    # -- link ----------------------------------------------------------------------------------------
    @dbus_method()
    async def Connect(self):  # noqa: N802
        if self.link is not None:
            return
        if self.connecting:
            raise _error("InProgress", "In Progress")
        self.connecting = True
        try:
            await asyncio.sleep(self.peripheral.CONNECT_S)
            if not self.peripheral.available or self.peripheral._link is not None:
                raise _error("Failed", "le-connection-link-layer-establishment-failed")
            self.link = _Link(self)
            self.peripheral.attach(self.link)
            self.emit_properties_changed({"Connected": True})
            self._export_gatt()
            self.services_resolved = True
            self.emit_properties_changed({"ServicesResolved": True})
        finally:
            self.connecting = False

    @dbus_method()
    def Disconnect(self):  # noqa: N802
        if self.link is None:
            return
        self.peripheral.detach()
        self.link_down()

    def link_down(self) -> None:
        """The link is gone (our Disconnect, or the peripheral's supervision timeout)."""
        self.link.open = False
        self.link = None
        self.services_resolved = False
        self.emit_properties_changed({"ServicesResolved": False})
        self._unexport_gatt()
        self.emit_properties_changed({"Connected": False})

    def notify(self, char_uuid: str, data: bytes) -> bool:
        char = self.characteristics.get(char_uuid)
        if char is None or not char.notifying:
            return False
        self.sent.append((char_uuid, bytes(data)))
        char.set_value(data)
        return True

    def _export_gatt(self) -> None:
        handle = itertools.count(0x000C)
        bus = self.bluez.bus
        for service in self.peripheral.services:
            if service.uuid.lower() in CLAIMED_SERVICES:
                continue
            service_path = f"{self.path}/service{next(handle):04x}"
            self.gatt[service_path] = GattService(service.uuid, self.path)
            for char in service.characteristics:
                char_path = f"{service_path}/char{next(handle):04x}"
                characteristic = Characteristic(self, char.uuid, char.properties, service_path)
                self.gatt[char_path] = self.characteristics[char.uuid] = characteristic
                if "notify" in char.properties or "indicate" in char.properties:
                    next(handle)  # the value handle
                    self.gatt[f"{char_path}/desc{next(handle):04x}"] = Descriptor(characteristic, char_path)
        for path, interface in self.gatt.items():
            bus.export(path, interface)
        if any(s.uuid.lower() == BATTERY_SERVICE_UUID for s in self.peripheral.services):
            self.battery = Battery(self.peripheral)
            bus.export(self.path, self.battery)

    def _unexport_gatt(self) -> None:
        bus = self.bluez.bus
        for path in reversed(list(self.gatt)):
            bus.unexport(path)
        self.gatt.clear()
        self.characteristics.clear()
        if self.battery is not None:
            bus.unexport(self.path, self.battery)
            self.battery = None

    def require_link(self) -> VirtualPeripheral:
        if self.link is None:
            raise _error("Failed", "Not connected")
        return self.peripheral

    # -- properties ----------------------------------------------------------------------------------
    @dbus_property(access=READ)
    def Address(self) -> "s":  # noqa: N802, F821
        return self.peripheral.address.upper()

    @dbus_property(access=READ)
    def AddressType(self) -> "s":  # noqa: N802, F821
        return "random"

    @dbus_property(access=READ)
    def Name(self) -> "s":  # noqa: N802, F821
        return self.peripheral.name

    @dbus_property(access=READ)
    def Alias(self) -> "s":  # noqa: N802, F821
        return self.peripheral.name

    @dbus_property(access=READ)
    def Adapter(self) -> "o":  # noqa: N802, F821
        return ADAPTER_PATH

    @dbus_property(access=READ)
    def UUIDs(self) -> "as":  # noqa: N802, F821
        return [u.lower() for u in self.peripheral.advertised_uuids]

    @dbus_property(access=READ)
    def RSSI(self) -> "n":  # noqa: N802, F821
        return self.peripheral.rssi

    @dbus_property(access=READ)
    def Connected(self) -> "b":  # noqa: N802, F821
        return self.link is not None

    @dbus_property(access=READ)
    def ServicesResolved(self) -> "b":  # noqa: N802, F821
        return self.services_resolved

    @dbus_property(access=READ)
    def Paired(self) -> "b":  # noqa: N802, F821
        return False

    @dbus_property(access=READ)
    def Bonded(self) -> "b":  # noqa: N802, F821
        return False

    @dbus_property(access=READ)
    def Trusted(self) -> "b":  # noqa: N802, F821
        return False

    @dbus_property(access=READ)
    def Blocked(self) -> "b":  # noqa: N802, F821
        return False

    @dbus_property(access=READ)
    def LegacyPairing(self) -> "b":  # noqa: N802, F821
        return False


class GattService(ServiceInterface):
    """``org.bluez.GattService1``."""

    def __init__(self, uuid: str, device: str):
        super().__init__("org.bluez.GattService1")
        self.uuid = uuid.lower()
        self.device = device

    @dbus_property(access=READ)
    def UUID(self) -> "s":  # noqa: N802, F821
        return self.uuid

    @dbus_property(access=READ)
    def Primary(self) -> "b":  # noqa: N802, F821
        return True

    @dbus_property(access=READ)
    def Device(self) -> "o":  # noqa: N802, F821
        return self.device

    @dbus_property(access=READ)
    def Includes(self) -> "ao":  # noqa: N802, F821
        return []


class Characteristic(ServiceInterface):
    """``org.bluez.GattCharacteristic1``: reads, writes and notifications of one peripheral characteristic."""

    def __init__(self, device: Device, uuid: str, flags: tuple[str, ...], service: str):
        super().__init__("org.bluez.GattCharacteristic1")
        self.device = device
        self.uuid = uuid  # as the peripheral spells it
        self.flags = list(flags)
        self.service = service
        self.value = b""
        self.notifying = False

    def set_value(self, data: bytes) -> None:
        self.value = bytes(data)
        self.emit_properties_changed({"Value": self.value})

    @dbus_method()
    async def ReadValue(self, options: "a{sv}") -> "ay":  # noqa: N802, F821
        peripheral = self.device.require_link()
        if "read" not in self.flags:
            raise att_error(0x02)
        await asyncio.sleep(peripheral.ROUND_TRIP_S)
        try:
            value = peripheral.on_read(self.uuid)
        except GattError as error:
            raise att_error(error.code) from error
        self.set_value(value)  # BlueZ stores the value read and signals it, notifying or not
        return self.value

    @dbus_method()
    async def WriteValue(self, value: "ay", options: "a{sv}"):  # noqa: N802, F821
        peripheral = self.device.require_link()
        kind = options["type"].value if "type" in options else "request"
        if kind == "command":
            if "write-without-response" not in self.flags:
                raise _error("NotSupported", "Operation is not supported")
            try:
                peripheral.on_write(self.uuid, bytes(value))
            except GattError:
                pass  # no response on the air: the central never learns
            return
        if "write" not in self.flags:
            raise _error("NotSupported", "Operation is not supported")
        await asyncio.sleep(peripheral.ROUND_TRIP_S)
        try:
            peripheral.on_write(self.uuid, bytes(value))
        except GattError as error:
            raise att_error(error.code) from error

    @dbus_method()
    async def StartNotify(self):  # noqa: N802
        peripheral = self.device.require_link()
        if "notify" not in self.flags and "indicate" not in self.flags:
            raise _error("NotSupported", "Operation is not supported")
        if self.notifying:
            return
        await asyncio.sleep(peripheral.ROUND_TRIP_S)  # the CCCD write and its response
        self.notifying = True
        peripheral.subscribe(self.uuid, True)
        self.emit_properties_changed({"Notifying": True})

    @dbus_method()
    def StopNotify(self):  # noqa: N802
        peripheral = self.device.require_link()
        if not self.notifying:
            raise _error("Failed", "No notify session started")
        self.notifying = False
        peripheral.subscribe(self.uuid, False)
        self.emit_properties_changed({"Notifying": False})

    @dbus_property(access=READ)
    def UUID(self) -> "s":  # noqa: N802, F821
        return self.uuid.lower()

    @dbus_property(access=READ)
    def Service(self) -> "o":  # noqa: N802, F821
        return self.service

    @dbus_property(access=READ)
    def Value(self) -> "ay":  # noqa: N802, F821
        return self.value

    @dbus_property(access=READ)
    def Notifying(self) -> "b":  # noqa: N802, F821
        return self.notifying

    @dbus_property(access=READ)
    def Flags(self) -> "as":  # noqa: N802, F821
        return self.flags

    @dbus_property(access=READ)
    def MTU(self) -> "q":  # noqa: N802, F821
        return MTU


class Descriptor(ServiceInterface):
    """``org.bluez.GattDescriptor1``: the CCCD of a notifying characteristic (BlueZ writes it itself)."""

    def __init__(self, characteristic: Characteristic, path: str):
        super().__init__("org.bluez.GattDescriptor1")
        self.characteristic = characteristic
        self.path = path

    @dbus_method()
    def ReadValue(self, options: "a{sv}") -> "ay":  # noqa: N802, F821
        self.characteristic.device.require_link()
        return self._value()

    @dbus_method()
    def WriteValue(self, value: "ay", options: "a{sv}"):  # noqa: N802, F821
        raise _error("NotPermitted", "Write not permitted")

    def _value(self) -> bytes:
        return bytes([1 if self.characteristic.notifying else 0, 0])

    @dbus_property(access=READ)
    def UUID(self) -> "s":  # noqa: N802, F821
        return CCCD_UUID

    @dbus_property(access=READ)
    def Characteristic(self) -> "o":  # noqa: N802, F821
        return self.path

    @dbus_property(access=READ)
    def Value(self) -> "ay":  # noqa: N802, F821
        return self._value()

    @dbus_property(access=READ)
    def Flags(self) -> "as":  # noqa: N802, F821
        return ["read", "write"]


class FakeBluez:
    """``org.bluez`` on a D-Bus, serving ``peripherals``; runs on the loop that calls :meth:`start`.

    The peripherals' simulation clock (their ``air``) starts at the first ``StartDiscovery``.
    """

    def __init__(self, peripherals: list[VirtualPeripheral]):
        self.peripherals = peripherals
        self.bus: MessageBus | None = None
        self.adapter = Adapter(self)
        self.devices = {p.address.upper(): Device(self, p) for p in peripherals}
        self._advertising: asyncio.Task | None = None
        self._script: list[tuple[float, Callable[[], None]]] = []
        self._timers: list[asyncio.TimerHandle] = []
        self.started = False
        #: (loop time, wall time) read together, to put loop times on the wall clock.
        self.clock_pair: tuple[float, float] | None = None

    def at(self, sim_s: float, action: Callable[[], None]) -> None:
        """Run ``action`` on the fake's loop at simulation time ``sim_s`` (call before the first discovery)."""
        self._script.append((sim_s, action))

    async def start(self, bus_address: str) -> None:
        self.bus = await MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM).connect()
        self.bus.export(ADAPTER_PATH, self.adapter)
        reply = await self.bus.request_name("org.bluez", NameFlag.DO_NOT_QUEUE)
        if reply != RequestNameReply.PRIMARY_OWNER:
            raise RuntimeError(f"org.bluez is taken on {bus_address} ({reply})")
        loop = asyncio.get_running_loop()
        self.clock_pair = (loop.time(), time.time())

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        if self._advertising is not None:
            self._advertising.cancel()
        for device in self.devices.values():
            if device.link is not None:
                device.peripheral.detach()
                device.link_down()
        self.bus.disconnect()
        await self.bus.wait_for_disconnect()

    def wall_time(self, loop_t: float) -> float:
        """Wall-clock time (``time.time()``) of loop time ``loop_t``."""
        return self.clock_pair[1] + (loop_t - self.clock_pair[0])

    # -- discovery -------------------------------------------------------------------------------------
    def discovery_started(self) -> None:
        if not self.started:
            self.started = True
            loop = asyncio.get_running_loop()
            for peripheral in self.peripherals:
                peripheral.air.sim_time()  # starts the simulation clock
            air = self.peripherals[0].air
            for sim_s, action in self._script:
                self._timers.append(loop.call_at(air.loop_time(sim_s), action))
        self._advertising = asyncio.get_running_loop().create_task(self._advertise())

    def discovery_stopped(self) -> None:
        self._advertising.cancel()
        self._advertising = None

    async def _advertise(self) -> None:
        while True:
            for device in self.devices.values():
                peripheral = device.peripheral
                if device.link is not None or not peripheral.available:
                    continue
                uuids = {u.lower() for u in peripheral.advertised_uuids}
                if self.adapter.uuid_filter and not uuids & self.adapter.uuid_filter:
                    continue
                if not device.exported:
                    device.exported = True
                    self.bus.export(device.path, device)
                else:
                    device.emit_properties_changed({"RSSI": peripheral.rssi})
            await asyncio.sleep(ADVERTISING_INTERVAL_S)

    def remove_device(self, path: str) -> bool:
        for device in self.devices.values():
            if device.path == path and device.exported:
                if device.link is not None:
                    device.peripheral.detach()
                    device.link_down()
                self.bus.unexport(device.path)
                device.exported = False
                return True
        return False


class FakeBluezThread:
    """A :class:`FakeBluez` on its own event loop in a daemon thread (a context manager).

    The peripherals and the fake are touched only from that thread while it runs; read their logs
    after the ``with`` block.
    """

    def __init__(self, bus_address: str, peripherals: list[VirtualPeripheral]):
        self.bus_address = bus_address
        self.bluez = FakeBluez(peripherals)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fake-bluez", daemon=True)

    def __enter__(self) -> FakeBluez:
        self._thread.start()
        self._ready.wait(10.0)
        if self._error is not None:
            raise RuntimeError(f"fake bluetoothd did not start: {self._error!r}") from self._error
        if not self._ready.is_set():
            raise RuntimeError("fake bluetoothd did not start within 10 s")
        return self.bluez

    def __exit__(self, *exc) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10.0)
        if self._error is not None and exc[0] is None:
            raise RuntimeError(f"fake bluetoothd failed: {self._error!r}") from self._error

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopped = asyncio.Event()
            await self.bluez.start(self.bus_address)
            self._ready.set()
            try:
                await self._stopped.wait()
            finally:
                await self.bluez.stop()

        try:
            asyncio.run(main())
        except BaseException as error:  # reported to the test thread
            self._error = error
            self._ready.set()
