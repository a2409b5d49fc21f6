"""Emulated BLE peripherals: what a sensor does on the air, at the GATT level, without bleak types.

A :class:`VirtualPeripheral` owns a GATT table (services → characteristics with properties), answers
writes and reads the way its family's firmware does, and, once told to stream, turns simulated
samples (:mod:`gaitmon.sim`) into the family's exact notification bytes on the sensor's own clock.
:class:`Faults` injects what goes wrong on a real link — lost, duplicated, swapped and corrupted
notifications, receive-time jitter, a sensor that drops off and comes back, a stream that stops while
the link stays up, garbled replies to set-up commands — and :class:`FaultLog` counts every fault
injected, so tests can demand exact loss counts.

A device streams its simulated session in a loop: after the last sample it starts again from the
first, its device clock running on (sample *i* of the endless stream is taken at
:meth:`VirtualPeripheral.sample_time`), so emulated runs of any length (soak tests, demos) stream
continuously.

The bleak side (``backend.py``) only routes calls here; the family devices are in ``devices.py``.
Times: "sim time" is seconds since the air's origin (the simulator's t = 0); the loop clock is the
injected host clock (``loop.time()``).
"""

from __future__ import annotations

import asyncio
import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from gaitmon._version import __version__
from gaitmon.sensors import FAMILIES
from gaitmon.sensors.decoder import MalformedPacket
from gaitmon.sensors.family import DEVICE_INFORMATION, DEVICE_INFORMATION_SERVICE_UUID


@dataclass
class Faults:
    """Faults injected into one emulated sensor's link.

    Attributes
    ----------
    drop, duplicate, reorder, corrupt : float
        Probability per data notification of losing it, sending it twice, swapping it with the
        next one of the same characteristic, or corrupting it so the decoder must reject it
        (truncated, over-long or garbled header — BLE's own CRC makes silent bit errors vanishingly
        rare, so corruption that decodes as valid data is not modelled).
    jitter_s : float
        Receive-time jitter: each notification arrives ``U(0, jitter_s)`` after it is sent (order
        on one link is kept, as the link layer does).
    disconnect_at_s : float or None
        Sim time at which the sensor drops the link (out of range, battery swap).
    away_s : float
        How long it stays unreachable before advertising again.
    more_disconnects : tuple of (float, float)
        Further drops, each ``(sim time, away s)``, as ``disconnect_at_s``/``away_s``.
    stall_at_s : float or None
        Sim time at which the sensor stops streaming while the link stays up.
    stall_kind : {"silent", "stuck", "announced"}
        ``"silent"``: the stream just stops, a new start command revives it; ``"stuck"``: only a
        new connection revives it; ``"announced"``: the sensor stops its measurement and says so
        (Polar's measurement-stopped notification; a start command revives it; families without
        such a notification stop silently).
    bad_replies : int
        How many replies to set-up commands (the first ones after connecting, of each connection
        until used up) arrive garbled: cut to their first byte.
    failing_device_information : tuple of str
        Device Information strings (:class:`~gaitmon.sensors.family.DeviceInfo` field names) whose
        reads the sensor answers with an ATT error (0x0E, "unlikely error").
    seed : int
        Seed of the fault generator (faults are reproducible).
    """

    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    corrupt: float = 0.0
    jitter_s: float = 0.0
    disconnect_at_s: float | None = None
    away_s: float = 1.0
    more_disconnects: tuple[tuple[float, float], ...] = ()
    stall_at_s: float | None = None
    stall_kind: str = "silent"
    bad_replies: int = 0
    failing_device_information: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.stall_kind not in STALL_KINDS:
            raise ValueError(f"stall_kind must be one of {STALL_KINDS}, not {self.stall_kind!r}")
        unknown = sorted(set(self.failing_device_information) - set(DEVICE_INFORMATION))
        if unknown:
            raise ValueError(f"failing_device_information: {unknown} are not Device Information strings "
                             f"({', '.join(DEVICE_INFORMATION)})")

    def away_windows(self) -> list[tuple[float, float]]:
        """Every drop as ``(sim time, sim time back)``, in time order."""
        drops = ([] if self.disconnect_at_s is None else [(self.disconnect_at_s, self.away_s)])
        return sorted((at, at + away) for at, away in drops + list(self.more_disconnects))


STALL_KINDS = ("silent", "stuck", "announced")


@dataclass
class FaultLog:
    """What was injected (data notifications only)."""

    notifications: int = 0
    dropped: int = 0
    dropped_samples: int = 0
    duplicated: int = 0
    reordered: int = 0
    corrupted: int = 0
    corrupted_samples: int = 0
    #: Corrupted notifications that reached the central's callback (duplicates count twice).
    corrupted_arrived: int = 0
    #: Corrupted notifications that were also sent twice.
    corrupted_duplicated: int = 0
    disconnects: list = field(default_factory=list)  # (sim time dropped, sim time back)
    #: Sim times at which the stream stopped while connected.
    stalls: list = field(default_factory=list)
    #: Replies to set-up commands sent garbled.
    garbled_replies: int = 0
    #: Frames that never reached the central intact: (send sim time, samples, first sample, "dropped"|"corrupted").
    losses: list = field(default_factory=list)

    def losses_before(self, sim_s: float) -> tuple[int, int]:
        """(packets, distinct samples) lost before ``sim_s`` — only those a later packet can reveal.

        Samples lost in two streams (a Polar acc and gyro frame of the same instants) count once.
        """
        lost = [(first, n) for t, n, first, _ in self.losses if t < sim_s]
        samples = set()
        for first, n in lost:
            samples.update(range(first, first + n))
        return len(lost), len(samples)


@dataclass(frozen=True)
class Characteristic:
    uuid: str
    properties: tuple[str, ...]


@dataclass(frozen=True)
class Service:
    uuid: str
    characteristics: tuple[Characteristic, ...]


@dataclass(frozen=True)
class Frame:
    """One notification a streaming device sends: when (sim time), on which characteristic, what."""

    send_s: float
    char_uuid: str
    data: bytes
    n_samples: int
    first_sample: int


class GattError(Exception):
    """The peripheral rejected an ATT request (the backend turns it into bleak's protocol error)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class VirtualPeripheral:
    """Base of the emulated sensors. Subclasses define the GATT table and the family's behaviour.

    Parameters
    ----------
    address, name : str
        Bluetooth address and advertised local name.
    t, x : ndarray
        Simulated samples: true sample times ``t[n]`` (sim s) and ``x[n, 6]`` (m/s², rad/s, sensor
        axes) from :func:`gaitmon.sim.simulate_session` at the rate the device is told to stream
        (its crystal error is already in ``t``: see ``SimConfig.clock_error_ppm``); streamed in a
        loop (:meth:`sample_time`, :meth:`samples`).
    nominal_rate_hz : float
        The rate the simulation was made for; the device refuses to stream at any other.
    faults : Faults, optional
    rssi : int
        Advertised signal strength, dBm.
    """

    family = "virtual"
    #: The rate its simulated sessions default to (Hz).
    default_rate: float = 0.0
    #: Advertised local name: ``NAME_FORMAT.format(letter)`` (a leg letter keeps the pair apart).
    NAME_FORMAT = "{}"
    #: Connection setup time and ATT round trip on the emulated link, s.
    CONNECT_S = 0.25
    ROUND_TRIP_S = 0.0075

    def __init__(self, address: str, name: str, t: np.ndarray, x: np.ndarray, nominal_rate_hz: float,
                 faults: Faults | None = None, rssi: int = -60):
        self.address = address
        self.name = name
        self.t = np.asarray(t, dtype=np.float64)
        self.x = np.asarray(x, dtype=np.float64)
        self.nominal_rate_hz = float(nominal_rate_hz)
        self.faults = faults or Faults()
        self.rssi = rssi
        self.log = FaultLog()
        self._rng = np.random.default_rng(self.faults.seed)
        self._link = None
        self._subscribed: set[str] = set()
        self._stream_task: asyncio.Task | None = None
        self._held: dict[str, tuple[bytes, int]] = {}
        self._last_delivery = -math.inf
        self.air = None
        self.battery_pct = 87
        #: What its Device Information Service answers: field → bytes, from :attr:`DEVICE_INFORMATION`
        #: (tests may put any bytes here).
        self.device_information = {name: text.format(label=FAMILIES[self.family].label, version=__version__,
                                                     serial=address.replace(":", "")).encode()
                                   for name, text in self.DEVICE_INFORMATION.items()}
        #: Index into ``t`` of the first sample of the latest stream start (tests map indices with it).
        self.first_sent: int | None = None
        self.first_packet_samples: int | None = None
        self._stuck = False  # a "stuck" stall: nothing streams until the next connection
        #: Movements streamed in place of the session's samples: (first sample index, rows[n, 6]).
        self._movements: list[tuple[int, np.ndarray]] = []

    @classmethod
    def advertised_name(cls, letter: str) -> str:
        return cls.NAME_FORMAT.format(letter)

    # -- what subclasses provide ---------------------------------------------------------------------
    services: tuple[Service, ...] = ()
    advertised_uuids: tuple[str, ...] = ()
    #: Device Information strings (``DeviceInfo`` field → text; ``{label}`` the family's label,
    #: ``{version}`` gaitmon's, ``{serial}`` the address without colons), marked as emulated so no
    #: file mistakes the emulator for the vendor's sensor. Its GATT table lists the same fields in a
    #: :func:`device_information_service`; empty: the device has none.
    DEVICE_INFORMATION: dict[str, str] = {}

    def on_write(self, char_uuid: str, data: bytes) -> None:
        """A write from the central; may reply by :meth:`notify` and start or stop streaming."""
        raise GattError(0x03, f"{char_uuid} is not writable")

    def on_read(self, char_uuid: str) -> bytes:
        if char_uuid == BATTERY_LEVEL_UUID:
            return bytes([self.battery_pct])
        name = _DEVICE_INFORMATION_FIELDS.get(char_uuid)
        if name in self.device_information:
            if name in self.faults.failing_device_information:
                raise GattError(0x0E, f"{char_uuid}: unlikely error")
            return self.device_information[name]
        raise GattError(0x02, f"{char_uuid} is not readable")

    def frames(self, first_sample: int) -> Iterator[Frame]:
        """The data notifications from sample ``first_sample`` on, in send order."""
        raise NotImplementedError

    def corrupt(self, data: bytes, rng: np.random.Generator) -> bytes:
        """A corrupted copy of ``data`` that the family's decoder rejects."""
        return data[: max(0, len(data) // 2 - 1)]

    def on_disconnect(self) -> None:
        """The link dropped: most firmware stops its streams (subclasses may keep state)."""
        self._stuck = False
        self.stop_streaming()

    def announce_stop(self) -> None:
        """The firmware stopped its measurement by itself: say so if the family can (Polar does)."""

    # -- link ------------------------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        """Advertising and connectable now (not in a disconnect fault's away window)."""
        now = self.air.sim_time()
        return not any(at <= now < back for at, back in self.faults.away_windows())

    def attach(self, link) -> None:
        """A central connected (``link`` is the backend client that receives notifications)."""
        self._link = link
        self._subscribed.clear()
        self._held.clear()
        now = self.air.sim_time()
        loop = asyncio.get_running_loop()
        upcoming = [(at, back) for at, back in self.faults.away_windows() if now < at]
        if upcoming:
            loop.call_at(self.air.loop_time(upcoming[0][0]), self._drop_link, link, upcoming[0][1])
        if self.faults.stall_at_s is not None and now < self.faults.stall_at_s:
            loop.call_at(self.air.loop_time(self.faults.stall_at_s), self._stall, link)

    def detach(self) -> None:
        """The central disconnected."""
        self._link = None
        self.on_disconnect()

    def _drop_link(self, link, back_s: float) -> None:
        if self._link is not link:
            return
        self.log.disconnects.append((self.air.sim_time(), back_s))
        self._link = None
        self.on_disconnect()
        link.peripheral_dropped()

    def _stall(self, link) -> None:
        """The stream stops while the link stays up (the fault fires once)."""
        if self._link is not link or self.log.stalls:
            return
        self.log.stalls.append(self.air.sim_time())
        self.stop_streaming()
        if self.faults.stall_kind == "stuck":
            self._stuck = True
        elif self.faults.stall_kind == "announced":
            self.announce_stop()

    def subscribe(self, char_uuid: str, enabled: bool) -> None:
        (self._subscribed.add if enabled else self._subscribed.discard)(char_uuid)

    def notify(self, char_uuid: str, data: bytes, delay_s: float = ROUND_TRIP_S) -> None:
        """Send a control notification (a reply) one round trip later: no link faults, but the first
        ``faults.bad_replies`` of them are cut to one byte."""
        if self._link is None or char_uuid not in self._subscribed:
            return
        if self.log.garbled_replies < self.faults.bad_replies:
            self.log.garbled_replies += 1
            data = data[:1]
        loop = asyncio.get_running_loop()
        at = max(loop.time() + delay_s, self._last_delivery + LINK_SPACING_S)
        self._last_delivery = at
        loop.call_at(at, self._link.deliver, char_uuid, bytes(data))

    # -- streaming -------------------------------------------------------------------------------------
    def start_streaming(self) -> None:
        self.stop_streaming()
        if self._stuck:
            return
        self.first_sent = self._first_sample_from_now()
        self._stream_task = asyncio.get_running_loop().create_task(self._stream())

    def stop_streaming(self) -> None:
        if self._stream_task is not None:
            self._stream_task.cancel()
            self._stream_task = None
        self._held.clear()

    @property
    def streaming(self) -> bool:
        return self._stream_task is not None

    def _first_sample_from_now(self) -> int:
        return self.sample_index_at(self.air.sim_time())

    def sample_index_at(self, sim_s: float) -> int:
        """Index in the endless stream of the first sample taken at or after sim time ``sim_s``."""
        laps = max(0, math.floor((sim_s - self.t[0]) / self.loop_period_s))
        return laps * len(self.t) + int(np.searchsorted(self.t, sim_s - laps * self.loop_period_s))

    def perform(self, rows: np.ndarray, start_sim_s: float) -> int:
        """Stream ``rows`` (``x[n, 6]``, sensor frame, m/s² and rad/s, at the nominal rate) from sim
        time ``start_sim_s`` on, in place of the session's samples: a movement the athlete makes
        (e.g. :func:`gaitmon.sim.knee_lift.knee_lift`). Returns the index of its first sample.

        Samples already sent are not changed: a movement starting before the next notification's
        first sample begins with that sample.
        """
        first = self.sample_index_at(start_sim_s)
        self._movements.append((first, np.asarray(rows, dtype=np.float64)))
        return first

    # -- the endless stream ------------------------------------------------------------------------------
    @property
    def loop_period_s(self) -> float:
        """Duration of one lap of the simulated session, s (its samples plus one sample period)."""
        n = len(self.t)
        return float(self.t[-1] - self.t[0]) * n / (n - 1)

    def sample_time(self, i):
        """True sim time of sample ``i`` (int or int array) of the endless stream, s."""
        laps, i = np.divmod(i, len(self.t))
        return self.t[i] + laps * self.loop_period_s

    def samples(self, i: int, j: int) -> np.ndarray:
        """Rows ``x[i:j]`` of the endless stream, (j − i, 6), with the movements performed (:meth:`perform`)."""
        x = self.x[np.arange(i, j) % len(self.t)]
        if self._movements:
            self._movements = [(first, rows) for first, rows in self._movements if first + len(rows) > i]
            for first, rows in self._movements:
                lo, hi = max(i, first), min(j, first + len(rows))
                if lo < hi:
                    x[lo - i:hi - i] = rows[lo - first:hi - first]
        return x

    async def _stream(self) -> None:
        loop = asyncio.get_running_loop()
        self.first_packet_samples = None
        for frame in self.frames(self.first_sent):
            if self.first_packet_samples is None:
                self.first_packet_samples = frame.n_samples
            delay = self.air.loop_time(frame.send_s) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._link is None:
                return
            self._send_data(frame)

    def _send_data(self, frame: Frame) -> None:
        if frame.char_uuid not in self._subscribed:
            return
        f, rng, log = self.faults, self._rng, self.log
        log.notifications += 1
        if rng.random() < f.drop:
            log.dropped += 1
            log.dropped_samples += frame.n_samples
            log.losses.append((frame.send_s, frame.n_samples, frame.first_sample, "dropped"))
            return
        data, corrupted = frame.data, False
        if rng.random() < f.corrupt:
            corrupted = True
            data = self.corrupt(data, rng)
            log.corrupted += 1
            log.corrupted_samples += frame.n_samples
            log.losses.append((frame.send_s, frame.n_samples, frame.first_sample, "corrupted"))
        copies = [data, data] if rng.random() < f.duplicate else [data]
        if len(copies) == 2:
            log.duplicated += 1
            log.corrupted_duplicated += corrupted
        held = self._held.pop(frame.char_uuid, None)
        if held is None and rng.random() < f.reorder:
            log.reordered += 1
            self._held[frame.char_uuid] = (data, len(copies), corrupted)
            return
        for payload in copies:
            self._deliver(frame.char_uuid, payload, corrupted)
        if held is not None:
            for _ in range(held[1]):
                self._deliver(frame.char_uuid, held[0], held[2])

    def _deliver(self, char_uuid: str, data: bytes, corrupted: bool) -> None:
        loop = asyncio.get_running_loop()
        jitter = self._rng.uniform(0.0, self.faults.jitter_s) if self.faults.jitter_s > 0 else 0.0
        at = max(loop.time() + jitter, self._last_delivery + LINK_SPACING_S)
        self._last_delivery = at
        loop.call_at(at, self._arrive, self._link, char_uuid, data, corrupted)

    def _arrive(self, link, char_uuid: str, data: bytes, corrupted: bool) -> None:
        if link.deliver(char_uuid, data) and corrupted:
            self.log.corrupted_arrived += 1

    # -- helpers for subclasses --------------------------------------------------------------------------
    def chunks(self, first_sample: int, per_packet: int) -> Iterator[tuple[int, int]]:
        """``(i, j)`` sample ranges of consecutive notifications of ``per_packet`` samples, endless."""
        for i in itertools.count(first_sample, per_packet):
            yield i, i + per_packet

    def send_time(self, last_sample: int) -> float:
        """A notification leaves once its last sample is taken (plus on-board processing, 1 ms)."""
        return float(self.sample_time(last_sample)) + 0.001


#: Spacing of notifications that leave in one burst: keeps the link's order on the loop's timer heap
#: (timers due at the same instant are not guaranteed to run in scheduling order).
LINK_SPACING_S = 1e-5
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE = Service(BATTERY_SERVICE_UUID, (Characteristic(BATTERY_LEVEL_UUID, ("read", "notify")),))
_DEVICE_INFORMATION_FIELDS = {uuid: name for name, (uuid, _) in DEVICE_INFORMATION.items()}


def device_information_service(fields) -> Service:
    """The standard Device Information Service (0x180A) with the read-only strings ``fields``
    (``DeviceInfo`` field names, e.g. the keys of a device's ``DEVICE_INFORMATION``)."""
    return Service(DEVICE_INFORMATION_SERVICE_UUID,
                   tuple(Characteristic(DEVICE_INFORMATION[name][0], ("read",)) for name in fields))


def rejected_corruption(data: bytes, rng: np.random.Generator, decode: Callable[[bytes], object]) -> bytes:
    """A corrupted copy of ``data`` that ``decode`` rejects: truncated, extended or with a garbled header."""
    for _ in range(20):
        mode = rng.integers(3)
        if mode == 0 and len(data) > 1:
            candidate = data[: int(rng.integers(1, len(data)))]
        elif mode == 1:
            candidate = data + bytes(rng.integers(0, 256, int(rng.integers(1, 4)), dtype=np.uint8))
        else:
            candidate = bytes([data[0] ^ int(rng.integers(1, 256))]) + data[1:]
        try:
            decode(candidate)
        except MalformedPacket:
            return candidate
    return b""
