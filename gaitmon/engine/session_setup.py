"""Setting up a live session without a terminal: find the sensors, tell the legs apart, pick the athlete.

Qt-free; the set-up screen (:mod:`gaitmon.dashboard.setup_window`) draws it. :class:`SensorSetup` runs
the radio work on an asyncio loop of its own (a daemon thread) through the same code as ``gaitmon
scan`` and ``gaitmon live`` (:mod:`gaitmon.sources.ble`), so emulated sensors (bleak's ``backend=``
hook) behave exactly as real ones:

- :meth:`SensorSetup.scan`: the supported sensors advertising nearby (family, name, signal), then
  each one's battery level over a short connection;
- :meth:`SensorSetup.check_legs`: stream the sensors assigned to the legs and ask the athlete to
  lift one knee; the sensor whose gyro shows the lift (:func:`sagittal_excursion`) is on that leg
  (:func:`judge_knee_lift`), so a swapped pair is caught before the session starts.

Both return a progress object the screen polls (its fields are replaced whole, never mutated, so
reading them from another thread is safe). The athletes to choose from are the history's
(:func:`roster`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from gaitmon.consts import SIDES
from gaitmon.sensors import FAMILIES
from gaitmon.session.history import History
from gaitmon.sources import ble
from gaitmon.stream.live import LiveSession
from gaitmon.stream.orientation import principal_axis

log = logging.getLogger(__name__)

#: How long a scan listens for advertisements, s.
SCAN_S = 3.0
#: A knee lift turns the shank at least this fast about its sagittal axis, rad/s (115 °/s); standing
#: sway stays below 1.5 rad/s (the motion threshold of :mod:`gaitmon.stream.orientation`).
KNEE_LIFT_RAD_S = 2.0
#: The standing leg's sensor may turn at most this fraction of the lifting leg's excursion.
STANDING_LEG_FRACTION = 0.5
#: The check judges this long after a sensor first turned faster than :data:`KNEE_LIFT_RAD_S` (a
#: lift is over in about a second), s.
JUDGE_AFTER_S = 1.5
#: Without a knee lift the check gives up this long after asking for one, s (default).
LIFT_TIMEOUT_S = 8.0
#: How long the sensors have to start streaming before the check gives up, s.
CONNECT_TIMEOUT_S = 20.0
#: How often the check looks at the samples, s.
POLL_S = 0.05


def roster(history_db: Path | None | Literal[False] = None) -> list[str]:
    """The athletes of the history (``history_db``; None: the data directory's; False: none), alphabetical."""
    if history_db is False:
        return []
    with History(history_db) as history:
        return history.athletes()


def family_label(sensor: ble.FoundSensor) -> str:
    """The sensor's family as the coach knows it (``Polar Verity Sense`` …)."""
    family = FAMILIES.get(sensor.family)
    return family.label if family is not None else sensor.family


def signal_bars(rssi_dbm: int) -> int:
    """Signal strength in bars, 1–4 (≥ −60 dBm: 4, ≥ −70: 3, ≥ −80: 2, else 1)."""
    return 4 if rssi_dbm >= -60 else 3 if rssi_dbm >= -70 else 2 if rssi_dbm >= -80 else 1


def sagittal_excursion(gyro: np.ndarray) -> float:
    """Largest angular velocity about the dominant rotation axis of ``gyro[n, 3]`` (rad/s), rad/s.

    While a knee lifts, its shank turns about the medio-lateral axis far more than about any other,
    so the principal axis of ``Σ g gᵀ`` (:func:`gaitmon.stream.orientation.principal_axis`) is the
    sagittal one whatever the sensor's mounting; the median is taken off first (gyro bias).
    """
    gyro = np.asarray(gyro, dtype=np.float64)
    if len(gyro) < 2:
        return 0.0
    centred = gyro - np.median(gyro, axis=0)
    try:
        axis = principal_axis(centred.T @ centred)
    except ValueError:  # no rotation at all
        return 0.0
    return float(np.max(np.abs(centred @ axis)))


def _deg_s(rad_s: float) -> str:
    return f"{np.degrees(rad_s):.0f} °/s"


@dataclass(frozen=True)
class LegCheck:
    """The verdict of a knee-lift check.

    Attributes
    ----------
    asked : str
        The leg whose knee the athlete was asked to lift.
    excursions : dict
        role → the sensor's largest sagittal angular velocity during the check, rad/s.
    lifted : str or None
        The role of the sensor that showed the lift; None when the check could not tell.
    text : str
        What the coach is told (the readings behind it: :attr:`readings`).
    """

    asked: str
    excursions: dict[str, float]
    lifted: str | None
    text: str

    def readings(self, names: Mapping[str, str] | None = None) -> str:
        """Each sensor's excursion and the knee-lift level, for the coach: ``gaitmon-L 210 °/s · …``
        (``names``: role → the sensor's name; default ``left sensor`` …)."""
        names = names or {}
        return (" · ".join(f"{names.get(role) or role + ' sensor'} {_deg_s(value)}"
                           for role, value in self.excursions.items())
                + f" (a knee lift turns the shank faster than {_deg_s(KNEE_LIFT_RAD_S)})")

    @property
    def confirmed(self) -> bool:
        """The sensor assigned to the asked leg is the one that turned."""
        return self.lifted == self.asked

    @property
    def swapped(self) -> bool:
        """The other leg's sensor turned: the two are the other way round."""
        return self.lifted is not None and self.lifted != self.asked


def judge_knee_lift(asked: str, excursions: Mapping[str, float]) -> LegCheck:
    """Which sensor is on the ``asked`` leg, from each assigned sensor's excursion (role → rad/s).

    A sensor showed the lift when it turned at least :data:`KNEE_LIFT_RAD_S` and the other sensor
    (if any) at most :data:`STANDING_LEG_FRACTION` of that.
    """
    excursions = dict(excursions)
    knee = asked.upper()
    fastest = max(excursions, key=lambda role: excursions[role])
    top = excursions[fastest]
    others = {role: value for role, value in excursions.items() if role != fastest}
    if top < KNEE_LIFT_RAD_S:
        hint = "" if len(excursions) > 1 else f", or the sensor is not on the {asked} leg"
        return LegCheck(asked, excursions, None, f"No knee lift seen: lift the {knee} knee high, quickly{hint}")
    if any(value > STANDING_LEG_FRACTION * top for value in others.values()):
        return LegCheck(asked, excursions, None, f"Both sensors turned: stand still and lift only the {knee} knee")
    if fastest == asked:
        return LegCheck(asked, excursions, fastest, f"Confirmed: the {knee} sensor turned with the {knee} knee")
    return LegCheck(asked, excursions, fastest, f"The {fastest.upper()} sensor turned with the {knee} knee: "
                                                "the sensors are the other way round")


@dataclass(frozen=True)
class ScanProgress:
    """A scan as far as it got: ``phase`` is ``scanning``, ``batteries`` (the list is known, battery
    levels are being read), ``done`` or ``failed`` (``error`` says why)."""

    phase: str = "scanning"
    sensors: tuple[ble.FoundSensor, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class CheckProgress:
    """A leg check as far as it got: ``phase`` is ``connecting``, ``lift`` (the athlete is asked to
    lift the ``asked`` knee now), ``done`` (``result``) or ``failed`` (``error`` says why);
    ``battery`` (role → %) as the streaming sensors report it."""

    asked: str
    phase: str = "connecting"
    result: LegCheck | None = None
    error: str = ""
    battery: dict[str, int] = field(default_factory=dict)


class Watch:
    """Where a scan's or a check's ``progress`` is kept: replaced whole on every change, so a reader
    in another thread (the screen's timer) sees the old one or the new one, never half of each."""

    def __init__(self, progress):
        self.progress = progress

    def update(self, **changes) -> None:
        self.progress = replace(self.progress, **changes)


class SensorSetup:
    """Scans and leg checks for the set-up screen, one at a time, on an asyncio loop in a daemon thread.

    Parameters
    ----------
    backends : tuple
        (scanner backend, client backend) for bleak's ``backend=`` hook; (None, None) = the real radio
        (see :mod:`gaitmon.sources.ble`).
    rate_hz : float, optional
        Streaming rate of the leg check (default: each family's).
    lift_timeout_s : float
        How long a check waits for a knee lift once it has asked for one, s.
    """

    def __init__(self, backends=(None, None), rate_hz: float | None = None, lift_timeout_s: float = LIFT_TIMEOUT_S):
        self.backends = tuple(backends)
        self.rate_hz = rate_hz
        self.lift_timeout_s = lift_timeout_s
        self._loop = asyncio.new_event_loop()
        self._radio: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="gaitmon-setup", daemon=True)
        self._thread.start()

    def scan(self, timeout_s: float = SCAN_S) -> Watch:
        """Start a scan; its ``.progress`` is a :class:`ScanProgress`."""
        watch = Watch(ScanProgress())
        self._submit(lambda: self._scan(watch, timeout_s), watch)
        return watch

    def check_legs(self, sensors: Mapping[str, str], asked: str = "left") -> Watch:
        """Start a knee-lift check of ``sensors`` (role → address or name; one or both legs), the
        athlete lifting the ``asked`` knee; its ``.progress`` is a :class:`CheckProgress`."""
        if asked not in sensors:
            raise ValueError(f"the {asked} leg has no sensor to check")
        watch = Watch(CheckProgress(asked))
        self._submit(lambda: self._check(watch, dict(sensors), asked), watch)
        return watch

    def close(self, timeout_s: float = 10.0) -> None:
        """Cancel what is running (its links are closed first) and end the loop's thread."""
        if self._loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._cancel_all(), self._loop).result(timeout_s)
        except concurrent.futures.TimeoutError:
            log.warning("session set-up: the radio did not stop within %g s", timeout_s)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self._loop.close()

    # -- on the loop -------------------------------------------------------------------------------------
    def _submit(self, work: Callable[[], Awaitable[None]], watch: Watch) -> None:
        async def guarded():
            if self._radio is None:
                self._radio = asyncio.Lock()
            async with self._radio:  # one radio: a scan and a check never overlap
                try:
                    await work()
                except ble.LINK_ERRORS as error:
                    watch.update(phase="failed", error=ble.explain(error)[1])
                except Exception as error:  # noqa: BLE001 - shown on the screen, which goes on
                    log.exception("session set-up")
                    watch.update(phase="failed", error=f"{type(error).__name__}: {error}")

        def begin() -> None:
            task = self._loop.create_task(guarded())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._loop.call_soon_threadsafe(begin)

    async def _cancel_all(self) -> None:
        """Cancel the scans and checks; each closes its links on the way out."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _scan(self, watch: Watch, timeout_s: float) -> None:
        found = await ble.scan(timeout_s, self.backends)
        watch.update(phase="batteries", sensors=tuple(found))
        for i, sensor in enumerate(found):
            try:
                found[i] = await ble.with_battery(sensor, self.backends)
            except ble.LINK_ERRORS:
                continue  # busy or out of range now: the list still shows it, without a level
            watch.update(sensors=tuple(found))
        watch.update(phase="done")

    async def _check(self, watch: Watch, sensors: dict[str, str], asked: str) -> None:
        loop = asyncio.get_running_loop()
        session = LiveSession("leg check")
        gyro: dict[str, list[np.ndarray]] = {role: [] for role in sensors}
        collecting = [False]

        def keep(role: str, blocks) -> None:
            if collecting[0]:
                gyro[role].extend(block.x[:, 3:6] for block in blocks)

        session.block_listener = keep
        stop = asyncio.Event()
        streams = asyncio.ensure_future(ble.acquire(sensors, session, self.rate_hz, stop=stop, backends=self.backends))
        try:
            deadline = loop.time() + CONNECT_TIMEOUT_S
            while not all(_state(session, role) == "streaming" for role in sensors):
                failed = any(_state(session, role) == "failed" for role in sensors)
                if failed or streams.done() or loop.time() > deadline:
                    waiting = [f"{role}: {_state(session, role) or 'not found'} {_detail(session, role)}".strip()
                               for role in sensors if _state(session, role) != "streaming"]
                    watch.update(phase="failed", error="no stream from " + "; ".join(waiting))
                    return
                await asyncio.sleep(POLL_S)
            collecting[0] = True
            watch.update(phase="lift", battery=_batteries(session))
            asked_t, lifted_t = loop.time(), None
            while True:
                await asyncio.sleep(POLL_S)
                excursions = {role: sagittal_excursion(np.concatenate(parts)) if parts else 0.0
                              for role, parts in gyro.items()}
                now = loop.time()
                if lifted_t is None and max(excursions.values()) >= KNEE_LIFT_RAD_S:
                    lifted_t = now
                if (lifted_t is not None and now - lifted_t >= JUDGE_AFTER_S) or now - asked_t >= self.lift_timeout_s:
                    break
        finally:
            stop.set()
            await _to_the_end(asyncio.gather(streams, return_exceptions=True))  # the links are closed
        watch.update(phase="done", result=judge_knee_lift(asked, excursions), battery=_batteries(session))


async def _to_the_end(awaitable) -> None:
    """Await ``awaitable`` to its end even when cancelled meanwhile (then raise the cancellation):
    closing the sensors' links must not be cut short."""
    future = asyncio.ensure_future(awaitable)
    try:
        await asyncio.shield(future)
    except asyncio.CancelledError:
        await future
        raise


def _state(session: LiveSession, role: str) -> str:
    status = session.status.get(role)
    return status.state if status is not None else ""


def _detail(session: LiveSession, role: str) -> str:
    status = session.status.get(role)
    return f"({status.detail})" if status is not None and status.detail else ""


def _batteries(session: LiveSession) -> dict[str, int]:
    return {role: status.battery_pct for role, status in session.status.items() if status.battery_pct is not None}


@dataclass(frozen=True)
class SessionChoice:
    """What the set-up screen hands on to start a session: the athlete, role → sensor address, and
    the bleak backends the sensors were found with."""

    athlete: str
    sensors: dict[str, str]
    backends: tuple = (None, None)

    def __post_init__(self) -> None:
        if not self.sensors or not set(self.sensors) <= set(SIDES):
            raise ValueError(f"sensors must map some of {SIDES} to addresses, not {self.sensors!r}")
