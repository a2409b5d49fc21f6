"""The contracts of the live path: what acquisition calls (:class:`Sink`) and what watches the
samples go by, decoded (:class:`BlockListener`) and projected for the step core
(:class:`ProjectionListener`), and what hears of the gait events as they are confirmed
(:class:`EventListener`).

A source (``gaitmon.sources.ble.acquire``, a replay) drives one :class:`Sink` per athlete, from the
asyncio loop, with host time stamps in s on the session clock. Implemented by
:class:`gaitmon.stream.live.LiveSession` (decode, time, detect), by
:class:`gaitmon.session.recorder.SessionRecorder` (journal every call, then pass it on to its
session) and by the engine's relay (pass it on to whichever recording is current).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from gaitmon.events import GaitEvent
from gaitmon.sensors.family import DeviceInfo, StreamSetup
from gaitmon.stream.timing import SampleBlock


class Sink(Protocol):
    """Receives everything a sensor link learns, in the order it learns it."""

    def on_state(self, role: str, state: str, detail: str = "", address: str = "",
                 battery_pct: int | None = None, device: DeviceInfo | None = None) -> Any:
        """The link's state changed (``connecting``, ``streaming``, ``reconnecting``, ``failed``, …),
        with a human-readable ``detail``, the sensor's ``address``, battery level (%) and what it says
        about itself (``device``, its Device Information Service) when known."""

    def on_configured(self, role: str, setup: StreamSetup, host_t: float) -> Any:
        """The sensor was (re)configured and streams as ``setup`` says, from host time ``host_t`` (s)."""

    def on_data(self, role: str, stream: str, host_t: float, payload: bytes) -> Any:
        """One notification of ``stream`` (a key of ``setup.streams``) arrived at ``host_t`` (s)."""

    def on_disconnected(self, role: str, host_t: float, cause: str = "disconnected") -> Any:
        """The stream broke at ``host_t`` (s): the link dropped (``cause`` ``"disconnected"``) or the
        sensor stopped streaming while connected (``"stalled"``); the next samples start a gap marked
        with that cause, and a restart or reconnection calls :meth:`on_configured` again."""


class BlockListener(Protocol):
    """Observes the decoded, time-stamped sample blocks of a sensor (``LiveSession.block_listener``)."""

    def __call__(self, role: str, blocks: Sequence[SampleBlock]) -> None: ...


class ProjectionListener(Protocol):
    """Observes what the step core is fed (``LiveSession.projection_listener``): time stamps ``t``
    (s, session clock), sagittal angular velocity ``omega`` (rad/s, swing positive) and
    accelerometer magnitude ``acc`` (m/s²) of a leg, as its pipeline projected them — so nothing
    downstream projects again, or differently."""

    def __call__(self, role: str, t: np.ndarray, omega: np.ndarray, acc: np.ndarray) -> None: ...


class EventListener(Protocol):
    """Observes the gait events a leg's step core confirms (``LiveSession.event_listener``), as soon
    as it confirms them, each at its own time (s, session clock)."""

    def __call__(self, role: str, events: Sequence[GaitEvent]) -> None: ...
