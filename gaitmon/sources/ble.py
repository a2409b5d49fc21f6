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

What a real radio does that the link survives, each shown to the coach with its reason (the
sink's ``on_state``): a sensor that stops streaming while connected (a watchdog per stream calls it
**stalled** after a few missed packet intervals, or at once when the sensor says so — Polar's
measurement-stopped notification; the gap is marked, the stream restarted in place, and the link
re-made if that does not bring data back); a failed or garbled set-up (retried with backoff); a
name that several sensors advertise (resolved to one address at the first connection, and only
that address is reconnected to); no Bluetooth at all (no adapter, BlueZ or D-Bus not running,
the adapter off: :func:`explain`).

``backend`` arguments take a (scanner backend, client backend) pair, e.g. ``air.scanner_backend,
air.client_backend`` of :class:`gaitmon.sources.virtual.backend.VirtualAir`; None means the
platform's real Bluetooth stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDBusError, BleakError

from gaitmon.sensors import FAMILIES, ConfigurationError, DeviceInfo, MalformedPacket, SensorFamily, family_for
from gaitmon.stream.sink import Sink

log = logging.getLogger(__name__)

#: Reconnection backoff: first retry after 0.25 s, doubling to at most 1 s, so a sensor that comes
#: back is streaming again within ~1.5 s (one backoff + one advertising interval + connect + start).
BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 1.0
#: How long one search for a known sensor scans before the lock is handed to another sensor.
FIND_TIMEOUT_S = 1.0
#: A name is resolved to an address by listening this long after the first sensor of that name is
#: seen, so that a second sensor advertising the same name is noticed.
NAME_SETTLE_S = 0.5
CONNECT_TIMEOUT_S = 10.0
#: BlueZ answers a request to scan within milliseconds; one that does not answer in this long is hung.
SCAN_START_TIMEOUT_S = 10.0
#: A stream is stalled when no notification came for this many of its packet intervals (mean since
#: it started), and at least STALL_MIN_S; a (re)started stream has FIRST_PACKET_S for its first packet.
#: A live BLE link retransmits until the supervision timeout, so half a second of silence on a
#: connected link means the sensor is not sending.
STALL_PACKETS = 5
STALL_MIN_S = 0.5
FIRST_PACKET_S = 2.0
#: How often the watchdog looks at the streams, s.
WATCHDOG_PERIOD_S = 0.1

#: Failures of the link or the sensor that a later attempt may not see again (retried).
LINK_ERRORS = (BleakError, TimeoutError, asyncio.TimeoutError, OSError, EOFError)
SETUP_ERRORS = (*LINK_ERRORS, MalformedPacket)

_ADDRESS = re.compile(r"([0-9A-F]{2}:){5}[0-9A-F]{2}|[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}", re.IGNORECASE)


@dataclass(frozen=True)
class FoundSensor:
    """A supported sensor seen in a scan: signal strength ``rssi`` in dBm, ``battery_pct`` in %
    once read (:func:`with_battery`; None: not read, or the sensor does not tell)."""

    family: str
    name: str
    address: str
    rssi: int
    battery_pct: int | None = None
    #: The scan's BLEDevice, to connect to it without scanning again.
    device: object = field(default=None, compare=False, repr=False)


class SensorNotFound(TimeoutError):
    """The sensor did not advertise during a search."""


def is_address(identifier: str) -> bool:
    """Whether ``identifier`` is a Bluetooth address (or the UUID macOS gives a device), not a name."""
    return _ADDRESS.fullmatch(identifier.strip()) is not None


def check_distinct(sensors: Mapping[str, str]) -> None:
    """Raise ValueError when one sensor (same address or name, in any case) is given for two roles."""
    seen: dict[str, str] = {}
    for role, identifier in sensors.items():
        key = identifier.strip().upper()
        if key in seen:
            raise ValueError(f"{identifier!r} is given for both {seen[key]} and {role}: a sensor streams to one "
                             "leg only")
        seen[key] = role


def explain(error: BaseException) -> tuple[str, str]:
    """``(state, reason)`` the coach is shown for a failure of the radio or the sensor.

    ``state`` is ``"no bluetooth"`` when the laptop's Bluetooth is missing (no adapter, BlueZ or the
    D-Bus system bus not running, the adapter off, access denied), ``"not found"`` when the sensor
    did not advertise, ``"setup failed"`` for a garbled reply, else ``"reconnecting"``.
    """
    if isinstance(error, BleakBluetoothNotAvailableError):
        reasons = {
            BleakBluetoothNotAvailableReason.NO_BLUETOOTH: "no Bluetooth adapter found (plug in a USB Bluetooth dongle?)",
            BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE:
                "the Bluetooth adapter cannot connect to BLE sensors (Bluetooth 4.0 or newer needed)",
            BleakBluetoothNotAvailableReason.POWERED_OFF:
                "the Bluetooth adapter is off (turn it on: `bluetoothctl power on`, or check `rfkill list`)",
        }
        return "no bluetooth", reasons.get(error.reason, f"Bluetooth access denied or unavailable ({error.args[0]})")
    if isinstance(error, BleakDBusError):
        name = error.dbus_error
        if name in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"):
            return "no bluetooth", "BlueZ is not running (start it: `sudo systemctl start bluetooth`)"
        if name == "org.freedesktop.DBus.Error.AccessDenied":
            return "no bluetooth", f"access to BlueZ denied ({error}): is the user allowed to use Bluetooth?"
        if name == "org.bluez.Error.NotReady":
            return "no bluetooth", "the Bluetooth adapter is not ready (off? `bluetoothctl power on`)"
        return "reconnecting", f"BlueZ: {error}"
    if isinstance(error, (FileNotFoundError, ConnectionRefusedError)):  # bleak's BlueZ backend opens only the bus
        return "no bluetooth", ("no D-Bus system bus, so no BlueZ (is this Linux with BlueZ installed and "
                                "running? `systemctl status dbus bluetooth`)")
    if isinstance(error, SensorNotFound):
        return "not found", str(error)
    if isinstance(error, MalformedPacket):
        return "setup failed", f"garbled reply from the sensor ({error})"
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)):
        return "reconnecting", str(error) or "timed out"
    return "reconnecting", f"{type(error).__name__}: {error}"


async def scan(timeout_s: float = 5.0, backends=(None, None)) -> list[FoundSensor]:
    """Sensors of supported families advertising nearby, strongest first.

    Raises the radio's error when there is no Bluetooth (see :func:`explain`).
    """
    found: dict[str, FoundSensor] = {}

    def seen(device, adv) -> None:
        name = adv.local_name or device.name
        family = family_for(name, adv.service_uuids)
        if family is not None:
            found[device.address] = FoundSensor(family.name, name or "", device.address, adv.rssi, device=device)

    async with _scanning(seen, backends[0]):
        await asyncio.sleep(timeout_s)
    return sorted(found.values(), key=lambda s: (-s.rssi, s.address))


async def with_battery(sensor: FoundSensor, backends=(None, None)) -> FoundSensor:
    """``sensor`` with its battery level, read over a short connection (the standard Battery
    Service; None when the sensor has none). Raises the link's errors (:data:`LINK_ERRORS`)."""
    family = FAMILIES[sensor.family]
    client = BleakClient(sensor.device or sensor.address, timeout=CONNECT_TIMEOUT_S, backend=backends[1])
    await asyncio.wait_for(client.connect(), CONNECT_TIMEOUT_S)
    try:
        battery = await family.read_battery(client)
    finally:
        await client.disconnect()
    return replace(sensor, battery_pct=battery)


@contextlib.asynccontextmanager
async def _scanning(callback, backend):
    """A running BleakScanner calling ``callback``; TimeoutError when Bluetooth does not answer."""
    scanner = BleakScanner(callback, backend=backend)
    try:
        await asyncio.wait_for(scanner.start(), SCAN_START_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise TimeoutError(f"Bluetooth did not answer a request to scan in {SCAN_START_TIMEOUT_S:g} s (BlueZ hung? "
                           "`sudo systemctl restart bluetooth`)") from None
    try:
        yield scanner
    finally:
        await scanner.stop()


class _Subscriptions:
    """The connected client as a family sees it, remembering what it subscribes to, so that a
    restart can unsubscribe before the family starts again."""

    def __init__(self, client: BleakClient):
        self._client = client
        self.characteristics: list = []

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    async def start_notify(self, characteristic, callback, **kwargs) -> None:
        await self._client.start_notify(characteristic, callback, **kwargs)
        self.characteristics.append(characteristic)

    async def unsubscribe(self) -> None:
        characteristics, self.characteristics = self.characteristics, []
        for characteristic in dict.fromkeys(characteristics):
            await self._client.stop_notify(characteristic)


class _Arrivals:
    """When each stream's notifications came (host s): first, last and how many, for the watchdog."""

    def __init__(self, streams, started_t: float):
        self.streams = tuple(streams)
        self.started_t = started_t
        self.seen: dict[str, list] = {}

    def arrived(self, stream: str, host_t: float) -> None:
        seen = self.seen.get(stream)
        if seen is None:
            self.seen[stream] = [host_t, host_t, 1]
        else:
            seen[1] = host_t
            seen[2] += 1

    def stalled(self, now: float) -> str | None:
        """Why a stream counts as stalled at ``now`` (see :data:`STALL_PACKETS`), or None."""
        for stream in self.streams:
            what = f"{stream} " if len(self.streams) > 1 else ""
            seen = self.seen.get(stream)
            if seen is None:
                if now - self.started_t > FIRST_PACKET_S:
                    return f"no {what}data in the {now - self.started_t:.1f} s since the stream was started"
                continue
            first, last, count = seen
            interval = (last - first) / (count - 1) if count > 1 else 0.0
            if now - last > max(STALL_MIN_S, STALL_PACKETS * interval):
                due = f" (a packet was due every {interval * 1e3:.0f} ms)" if interval > 0 else ""
                return f"no {what}data for {now - last:.1f} s{due}"
        return None


class SensorLink:
    """Keeps one sensor streaming into a sink until stopped: reconnects, restarts stalled streams.

    Parameters
    ----------
    role : str
        The sensor's role in the session (``"left"``/``"right"``).
    identifier : str
        Bluetooth address or advertised name. A name is resolved to one address at the first
        connection (the strongest sensor of that name not claimed by another role; a warning
        lists the others), and only that address is reconnected to.
    rate_hz : float or None
        Requested sample rate (the family's default when None).
    sink : gaitmon.stream.sink.Sink
        Receives ``on_state``, ``on_configured``, ``on_data`` and ``on_disconnected``
        (the :class:`gaitmon.stream.sink.Sink` contract).
    connect_lock : asyncio.Lock
        Shared by every link of the process: scans and connects happen one at a time.
    backends : tuple
        (scanner backend, client backend) for bleak's ``backend=`` hook; (None, None) = real radio.
    claims : dict, optional
        address (upper case) → role, shared by every link of the process: a sensor streams to one
        role only.

    Attributes
    ----------
    address : str or None
        The sensor's address once resolved.
    device : DeviceInfo or None
        What the sensor says about itself (its Device Information Service), read at the first
        connection that lasts through the reads and passed with every ``streaming`` state; None before.
    """

    def __init__(self, role: str, identifier: str, rate_hz: float | None, sink: Sink, connect_lock: asyncio.Lock,
                 backends=(None, None), claims: dict[str, str] | None = None):
        self.role = role
        self.identifier = identifier
        self.rate_hz = rate_hz
        self.sink = sink
        self.lock = connect_lock
        self.backends = backends
        self.claims = {} if claims is None else claims
        self.address: str | None = identifier.strip().upper() if is_address(identifier) else None
        self.family: SensorFamily | None = None
        self.client: BleakClient | None = None
        self.device: DeviceInfo | None = None  # read once: one address is followed, reconnections stay fast
        self._subscriptions: _Subscriptions | None = None
        self._arrivals: _Arrivals | None = None
        self._sensor_says: str | None = None
        self._gap_open = False
        self._rate = 0.0
        self._warning = ""
        self._lost = asyncio.Event()
        self._alarm = asyncio.Event()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Connect, stream, and reconnect after every drop or stall until :meth:`stop`; raises
        ConfigurationError (the sensor refuses the configuration, or is another role's sensor)."""
        backoff = BACKOFF_FIRST_S
        while not self._stop.is_set():
            why = None
            try:
                await self._connect_and_start()
                backoff = BACKOFF_FIRST_S
                why = await self._supervise()
            except ConfigurationError as error:
                self.sink.on_state(self.role, "failed", str(error))
                await self._close(send_stop=False)
                raise
            except SETUP_ERRORS as error:
                state, reason = explain(error)
                self.sink.on_state(self.role, state, f"{reason}; retrying")
                if state == "setup failed":
                    log.warning("%s: %s", self.role, reason)
            if self._stop.is_set():
                break
            if why is not None:
                self._mark_gap("disconnected")
                self.sink.on_state(self.role, "reconnecting", why)
            await self._close(send_stop=False)
            await self._wait_for(timeout_s=backoff)
            backoff = min(2 * backoff, BACKOFF_MAX_S)
        await self._close(send_stop=True)
        self.sink.on_state(self.role, "stopped")

    async def _connect_and_start(self) -> None:
        async with self.lock:
            self.sink.on_state(self.role, "searching", self.identifier)
            device, adv, warning = await self._find()
            self._warning = warning or self._warning  # said when the name was resolved; kept
            self.family = family_for(adv.local_name or device.name, adv.service_uuids)
            if self.family is None:
                raise ConfigurationError(f"{self.identifier} is not a supported sensor ({adv.local_name!r})")
            self._claim(device.address)
            self._rate = self.family.choose_rate(self.rate_hz)
            self.sink.on_state(self.role, "connecting", f"{self.family.label} {device.address}", address=device.address)
            self._lost.clear()
            self.client = BleakClient(device, disconnected_callback=self._on_disconnect,
                                      timeout=CONNECT_TIMEOUT_S, backend=self.backends[1])
            await asyncio.wait_for(self.client.connect(), CONNECT_TIMEOUT_S)
            await self._start_stream()
        device = self.device if self.device is not None else await self.family.read_device_info(self.client)
        if self.client.is_connected:  # read whole: not again (a link lost meanwhile: at the next connection)
            self.device = device
        battery = await self._battery()
        self.sink.on_state(self.role, "streaming", self._streaming(), battery_pct=battery, device=device)

    async def _start_stream(self) -> None:
        """Configure and start the stream on the connected client (again after a stall)."""
        loop = asyncio.get_running_loop()
        self._sensor_says = None
        self._alarm.clear()
        self._subscriptions = _Subscriptions(self.client)
        arrivals = None
        # Data can flow before start() returns (the sensor streams as soon as it is told to);
        # hold it until the sink knows the setup, with its receive times.
        early: list[tuple[str, float, bytes]] | None = []

        def on_data(stream: str, payload: bytearray) -> None:
            now = loop.time()
            if early is None:
                arrivals.arrived(stream, now)
                self.sink.on_data(self.role, stream, now, bytes(payload))
            else:
                early.append((stream, now, bytes(payload)))

        def on_stopped(reason: str) -> None:
            self._sensor_says = reason
            self._alarm.set()

        setup = await self.family.start(self._subscriptions, self._rate, on_data, on_stopped)
        started = loop.time()
        self.sink.on_configured(self.role, setup, started)
        self._gap_open = False
        arrivals = self._arrivals = _Arrivals(setup.streams, started)
        for stream, host_t, payload in early:
            arrivals.arrived(stream, host_t)
            self.sink.on_data(self.role, stream, host_t, payload)
        early = None

    async def _supervise(self) -> str | None:
        """Watch the stream until stop (None) or the link is lost or a stalled stream cannot be
        restarted in place (why, for a reconnection). A stall is marked as a gap and restarted."""
        restarted = False
        while True:
            stall = await self._watch()
            if stall is None:
                return None if self._stop.is_set() else "link lost"
            self._mark_gap("stalled")
            if restarted and not self._arrivals.seen:
                self.sink.on_state(self.role, "stalled", f"{stall}; reconnecting")
                return "the stream stalled and restarting it did not help"
            self.sink.on_state(self.role, "stalled", f"{stall}; restarting the stream")
            try:
                await self._restart()
            except SETUP_ERRORS as error:
                return f"the stream stalled and restarting it failed: {explain(error)[1]}"
            restarted = True
            self.sink.on_state(self.role, "streaming", self._streaming("restarted after a stall"))

    async def _watch(self) -> str | None:
        """None when stopped or the link is lost; else, once a stream stalls, why."""
        loop = asyncio.get_running_loop()
        while not (self._stop.is_set() or self._lost.is_set()):
            if self._sensor_says is not None:
                return f"the sensor stopped its measurement ({self._sensor_says})"
            stall = self._arrivals.stalled(loop.time())
            if stall is not None:
                return stall
            await self._wait_for(self._lost, self._alarm, timeout_s=WATCHDOG_PERIOD_S)
        return None

    async def _restart(self) -> None:
        """Stop the sensor's stream (best effort), unsubscribe and configure it again."""
        with contextlib.suppress(*SETUP_ERRORS):
            await asyncio.wait_for(self.family.stop(self.client), 2.0)
        await self._subscriptions.unsubscribe()
        await self._start_stream()

    def _streaming(self, *notes: str) -> str:
        """The detail of the streaming state: family, rate and anything the coach should know."""
        return "; ".join(filter(None, (f"{self.family.label} at {self._rate:g} Hz", *notes, self._warning)))

    def _mark_gap(self, cause: str) -> None:
        """The stream broke (``cause``): its next samples start a gap (once per break)."""
        if not self._gap_open and self._arrivals is not None:
            self._gap_open = True
            self.sink.on_disconnected(self.role, asyncio.get_running_loop().time(), cause)

    def _claim(self, address: str) -> None:
        key = address.upper()
        holder = self.claims.get(key)
        if holder is not None and holder != self.role:
            raise ConfigurationError(f"{self.identifier} ({address}) is already the {holder} sensor")
        self.claims[key] = self.role
        self.address = key

    async def _find(self):
        """(BLEDevice, AdvertisementData, warning) of the sensor, scanning at most FIND_TIMEOUT_S
        (+ NAME_SETTLE_S to resolve a name); ``warning`` is "" unless other sensors share its name."""
        loop = asyncio.get_running_loop()
        first = loop.create_future()
        candidates: dict[str, tuple] = {}  # address → (device, adv), by name
        name = self.identifier.strip().upper()
        taken = {a: role for a, role in self.claims.items() if role != self.role}
        blocked: dict[str, str] = {}  # sensors of that name that are another role's

        def seen(device, adv) -> None:
            address = device.address.upper()
            if self.address is not None:
                match = address == self.address
            else:
                match = (adv.local_name or device.name or "").upper() == name
                if match and address in taken:
                    blocked[address], match = taken[address], False
                elif match:
                    candidates[address] = (device, adv)
            if match and not first.done():
                first.set_result((device, adv))

        async with _scanning(seen, self.backends[0]):
            try:
                found = await asyncio.wait_for(first, FIND_TIMEOUT_S)
            except asyncio.TimeoutError:
                if blocked:
                    address, holder = next(iter(blocked.items()))
                    raise ConfigurationError(f"{self.identifier} is {address}, already the {holder} sensor") from None
                raise SensorNotFound(f"{self.identifier} not seen in {FIND_TIMEOUT_S:g} s of scanning (is it on, "
                                     "charged, in range and not connected to another device?)") from None
            if self.address is None:
                await asyncio.sleep(NAME_SETTLE_S)
        if len(candidates) <= 1:
            return (*found, "")
        ranked = sorted(candidates.values(), key=lambda c: (-c[1].rssi, c[0].address))
        others = ", ".join(f"{d.address} ({a.rssi} dBm)" for d, a in ranked[1:])
        warning = (f"warning: {len(ranked)} sensors advertise as {self.identifier!r}: took the strongest, "
                   f"{ranked[0][0].address} ({ranked[0][1].rssi} dBm), not {others}; give its address to choose")
        log.warning("%s: %s", self.role, warning)
        return (*ranked[0], warning)

    async def _battery(self) -> int | None:
        try:
            return await self.family.read_battery(self.client)
        except LINK_ERRORS:
            return None

    def _on_disconnect(self, _client) -> None:
        self._lost.set()

    async def _wait_for(self, *events: asyncio.Event, timeout_s: float | None = None) -> None:
        """Wait until one of ``events`` (or stop) is set, or ``timeout_s`` passes."""
        waiters = {asyncio.ensure_future(e.wait()) for e in (*events, self._stop)}
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
        except LINK_ERRORS as error:
            log.warning("%s: closing the link failed: %s", self.role, error)


async def acquire(sensors: dict[str, str], sink: Sink, rate_hz: float | None = None, duration_s: float | None = None,
                  stop: asyncio.Event | None = None, backends=(None, None),
                  connect_lock: asyncio.Lock | None = None, claims: dict[str, str] | None = None) -> None:
    """Stream every sensor (role → address or name) into ``sink`` until ``duration_s`` or ``stop``.

    One link per sensor, all sharing one connect lock; a sensor that fails to configure stops only
    itself (its state says why). Several athletes on one laptop: one ``acquire`` per athlete (each
    with its own sink) on the same loop, passing them all the same ``connect_lock`` and ``claims``
    (address → role: one sensor streams to one role only). Raises ValueError when ``sensors``
    names one sensor twice.
    """
    check_distinct(sensors)
    lock = connect_lock or asyncio.Lock()
    claims = {} if claims is None else claims
    links = [SensorLink(role, ident, rate_hz, sink, lock, backends, claims) for role, ident in sensors.items()]
    for link in links:  # addresses given are claimed up front: a name never resolves to another role's sensor
        if link.address is not None:
            claims.setdefault(link.address, link.role)
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
