"""Live acquisition with bleak: scan, connect (serialised), configure, stream, reconnect.

The only module (with the emulated backend beside it) that imports bleak. Everything bleak-specific
stays here; the families (``gaitmon.sensors``) talk to the client it hands them, and the samples go
to a sink (:class:`gaitmon.stream.live.LiveSession`, or a recorder wrapping it) as raw bytes with their
host receive time — stamped first thing in the notification callback, from ``loop.time()``.

Rules from bleak's documentation and issue tracker that shape this module:

* one asyncio loop for everything; notification callbacks are plain functions, O(packet);
* scanning and connecting are serialised with one lock (BlueZ answers ``InProgress`` otherwise),
  streaming is concurrent;
* connect with the :class:`~bleak.backends.device.BLEDevice` from a scan, not a bare address;
* after a reconnection the stream must be configured again (sensors stop streaming on disconnect).

``backend`` arguments take a (scanner backend, client backend) pair, e.g. ``air.scanner_backend,
air.client_backend`` of :class:`gaitmon.sources.virtual.backend.VirtualAir`; None means the
platform's real Bluetooth stack.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from gaitmon.sensors import ConfigurationError, SensorFamily, family_for
from gaitmon.stream.sink import Sink

log = logging.getLogger(__name__)

#: Reconnection backoff: first retry after 0.25 s, doubling to at most 1 s, so a sensor that comes
#: back is streaming again within ~1.5 s (one backoff + one advertising interval + connect + start).
BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 1.0
#: How long one search for a known sensor scans before the lock is handed to another sensor.
FIND_TIMEOUT_S = 1.0
CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class FoundSensor:
    """A supported sensor seen in a scan."""

    family: str
    name: str
    address: str
    rssi: int


async def scan(timeout_s: float = 5.0, backends=(None, None)) -> list[FoundSensor]:
    """Sensors of supported families advertising nearby, strongest first."""
    found: dict[str, FoundSensor] = {}

    def seen(device, adv) -> None:
        name = adv.local_name or device.name
        family = family_for(name, adv.service_uuids)
        if family is not None:
            found[device.address] = FoundSensor(family.name, name or "", device.address, adv.rssi)

    async with BleakScanner(seen, backend=backends[0]):
        await asyncio.sleep(timeout_s)
    return sorted(found.values(), key=lambda s: (-s.rssi, s.address))


class SensorLink:
    """Keeps one sensor streaming into a sink until stopped, reconnecting with backoff.

    Parameters
    ----------
    role : str
        The sensor's role in the session (``"left"``/``"right"``).
    identifier : str
        Bluetooth address or advertised name.
    rate_hz : float or None
        Requested sample rate (the family's default when None).
    sink : gaitmon.stream.sink.Sink
        Receives ``on_state``, ``on_configured``, ``on_data`` and ``on_disconnected``
        (the :class:`gaitmon.stream.sink.Sink` contract).
    connect_lock : asyncio.Lock
        Shared by every link of the process: scans and connects happen one at a time.
    backends : tuple
        (scanner backend, client backend) for bleak's ``backend=`` hook; (None, None) = real radio.
    """

    def __init__(self, role: str, identifier: str, rate_hz: float | None, sink: Sink, connect_lock: asyncio.Lock,
                 backends=(None, None)):
        self.role = role
        self.identifier = identifier
        self.rate_hz = rate_hz
        self.sink = sink
        self.lock = connect_lock
        self.backends = backends
        self.family: SensorFamily | None = None
        self.client: BleakClient | None = None
        self._lost = asyncio.Event()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Connect, stream, and reconnect after every drop until :meth:`stop`; raises ConfigurationError."""
        backoff = BACKOFF_FIRST_S
        while not self._stop.is_set():
            streaming = False
            try:
                await self._connect_and_start()
                streaming = True
                backoff = BACKOFF_FIRST_S
                await self._wait_for(self._lost)
            except ConfigurationError as error:
                self.sink.on_state(self.role, "failed", str(error))
                await self._close(send_stop=False)
                raise
            except (BleakError, TimeoutError, asyncio.TimeoutError, OSError) as error:
                self.sink.on_state(self.role, "reconnecting", f"{type(error).__name__}: {error}")
            if self._stop.is_set():
                break
            if streaming:
                now = asyncio.get_running_loop().time()
                self.sink.on_disconnected(self.role, now)
                self.sink.on_state(self.role, "reconnecting", "link lost")
            await self._close(send_stop=False)
            await self._wait_for(self._stop, timeout_s=backoff)
            backoff = min(2 * backoff, BACKOFF_MAX_S)
        await self._close(send_stop=True)
        self.sink.on_state(self.role, "stopped")

    async def _connect_and_start(self) -> None:
        loop = asyncio.get_running_loop()
        async with self.lock:
            self.sink.on_state(self.role, "searching", self.identifier)
            device, adv = await self._find()
            self.family = family_for(adv.local_name or device.name, adv.service_uuids)
            if self.family is None:
                raise ConfigurationError(f"{self.identifier} is not a supported sensor ({adv.local_name!r})")
            rate = self.family.choose_rate(self.rate_hz)
            self.sink.on_state(self.role, "connecting", f"{self.family.label} {device.address}", address=device.address)
            self._lost.clear()
            self.client = BleakClient(device, disconnected_callback=self._on_disconnect,
                                      timeout=CONNECT_TIMEOUT_S, backend=self.backends[1])
            await asyncio.wait_for(self.client.connect(), CONNECT_TIMEOUT_S)

            # Data can flow before start() returns (the sensor streams as soon as it is told to);
            # hold it until the sink knows the setup, with its receive times.
            early: list[tuple[str, float, bytes]] | None = []

            def on_data(stream: str, payload: bytearray) -> None:
                if early is None:
                    self.sink.on_data(self.role, stream, loop.time(), bytes(payload))
                else:
                    early.append((stream, loop.time(), bytes(payload)))

            setup = await self.family.start(self.client, rate, on_data)
            self.sink.on_configured(self.role, setup, loop.time())
            for stream, host_t, payload in early:
                self.sink.on_data(self.role, stream, host_t, payload)
            early = None
        battery = await self._battery()
        self.sink.on_state(self.role, "streaming", f"{self.family.label} at {setup.rate_hz:g} Hz",
                           battery_pct=battery)

    async def _find(self):
        """(BLEDevice, AdvertisementData) of the sensor, scanning at most FIND_TIMEOUT_S."""
        target = self.identifier.upper()
        found = asyncio.get_running_loop().create_future()

        def seen(device, adv) -> None:
            if not found.done() and target in (device.address.upper(), (adv.local_name or "").upper()):
                found.set_result((device, adv))

        async with BleakScanner(seen, backend=self.backends[0]):
            try:
                return await asyncio.wait_for(found, FIND_TIMEOUT_S)
            except asyncio.TimeoutError:
                raise TimeoutError(f"{self.identifier} not found (is it on, charged and in range?)") from None

    async def _battery(self) -> int | None:
        try:
            return await self.family.read_battery(self.client)
        except (BleakError, TimeoutError, asyncio.TimeoutError):
            return None

    def _on_disconnect(self, _client) -> None:
        self._lost.set()

    async def _wait_for(self, event: asyncio.Event, timeout_s: float | None = None) -> None:
        """Wait until ``event`` (or stop) is set, or ``timeout_s`` passes."""
        waiters = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._stop.wait())}
        try:
            await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _close(self, send_stop: bool) -> None:
        client, self.client = self.client, None
        if client is None or not client.is_connected:
            return
        try:
            if send_stop and self.family is not None:
                await asyncio.wait_for(self.family.stop(client), 2.0)
            await client.disconnect()
        except (BleakError, TimeoutError, asyncio.TimeoutError, OSError) as error:
            log.warning("%s: closing the link failed: %s", self.role, error)


async def acquire(sensors: dict[str, str], sink: Sink, rate_hz: float | None = None, duration_s: float | None = None,
                  stop: asyncio.Event | None = None, backends=(None, None),
                  connect_lock: asyncio.Lock | None = None) -> None:
    """Stream every sensor (role → address or name) into ``sink`` until ``duration_s`` or ``stop``.

    One link per sensor, all sharing one connect lock; a sensor that fails to configure stops only
    itself (its state says why). Several athletes on one laptop: one ``acquire`` per athlete (each
    with its own sink) on the same loop, passing them all the same ``connect_lock``.
    """
    lock = connect_lock or asyncio.Lock()
    links = [SensorLink(role, ident, rate_hz, sink, lock, backends) for role, ident in sensors.items()]
    tasks = [asyncio.ensure_future(link.run()) for link in links]
    stop = stop or asyncio.Event()
    try:
        await asyncio.wait([asyncio.ensure_future(stop.wait())], timeout=duration_s)
    finally:
        for link in links:
            link.stop()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for link, result in zip(links, results):
        if isinstance(result, ConfigurationError):
            log.error("%s: %s", link.role, result)
        elif isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result
