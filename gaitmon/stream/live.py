"""The live pipeline after the radio: raw notifications → decoders → timing → core → events and steps.

:class:`LiveSession` is what the acquisition layer (``gaitmon/sources/ble.py``) feeds — and what a
replay feeds with the same calls from a recorded journal — so live and replayed sessions go through
one code path. It receives, per sensor role (``"left"``/``"right"``):

* ``on_configured(role, setup, host_t)``: the sensor (re)started streaming with a
  :class:`~gaitmon.sensors.StreamSetup`;
* ``on_data(role, stream, host_t, payload)``: one notification's bytes and its host receive time;
  a replay may instead hand over many at once: ``on_data_batch(role, parts)`` (see
  :meth:`LiveSession.on_data_batch`), which gives the same samples, counts and events;
* ``on_disconnected(role, host_t, cause)``: the link dropped, or the stream stalled;
* ``on_state(role, state, detail)``: link state for the health view.

Host times are seconds of the injected clock (``loop.time()``), never read here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from gaitmon.core import DetectorParams
from gaitmon.sensors.decoder import DecodeStats, decode_batch
from gaitmon.events import GaitEvent
from gaitmon.stream.pipeline import LegPipeline
from gaitmon.stream.sink import BlockListener, EventListener, ProjectionListener
from gaitmon.sensors import FAMILIES, DeviceInfo, StreamSetup
from gaitmon.analysis.steps import Step, build_steps
from gaitmon.stream.timing import GapMark, SampleBlock, SensorTimeline


class SensorFeed:
    """One sensor's decoders (with malformed-packet counts) and its :class:`SensorTimeline`."""

    def __init__(self, role: str, setup: StreamSetup):
        family = FAMILIES[setup.family]
        self.role = role
        self.setup = setup
        self.decoders = family.decoders(setup)
        self.stats = {stream: DecodeStats() for stream in self.decoders}
        self.timeline = SensorTimeline(role, setup.rate_hz, family.stream_specs(setup))
        # Without counter or device time, a repeated notification shows only as identical bytes.
        self._dedupe = family.dedupe_identical
        self._previous: dict[str, bytes] = {}
        self.identical_repeats = 0

    def feed(self, stream: str, host_t: float, payload: bytes) -> tuple[list[SampleBlock], list[GapMark]]:
        decoder = self.decoders.get(stream)
        if decoder is None:
            return [], []
        if self._dedupe:
            if self._previous.get(stream) == payload:
                self.identical_repeats += 1
                return [], []
            self._previous[stream] = payload
        packet = self.stats[stream].decode(decoder, payload)
        if packet is None or packet.kind != "data":  # malformed (counted), or a reply: nothing to time
            return [], []
        return self.timeline.push(stream, packet, host_t)

    def feed_batch(self, parts) -> tuple[list[SampleBlock], list[GapMark]]:
        """:meth:`feed` of many notifications: ``parts`` is ``[(stream, host_t (N,), payloads, order (N,))]``,
        the notifications of each stream in arrival order, ``order`` their ranks among all of them
        (the streams of one sensor arrive interleaved). Each stream's notifications are decoded in
        one call (:func:`~gaitmon.sensors.decoder.decode_batch`) and timed together
        (:meth:`SensorTimeline.push_batches`)."""
        batches = []
        for stream, host_t, payloads, order in parts:
            decoder = self.decoders.get(stream)
            if decoder is None or not len(payloads):
                continue
            host_t, order = np.asarray(host_t, dtype=np.float64), np.asarray(order)
            if self._dedupe:
                previous = [self._previous.get(stream)] + list(payloads[:-1])
                fresh = np.array([a != b for a, b in zip(payloads, previous)])
                self.identical_repeats += int(len(fresh) - fresh.sum())
                self._previous[stream] = payloads[-1]
                if not fresh.all():
                    keep = np.flatnonzero(fresh)
                    payloads, host_t, order = [payloads[i] for i in keep], host_t[keep], order[keep]
            batch = decode_batch(decoder, payloads)
            self.stats[stream].count_batch(batch)
            batches.append((stream, batch, host_t, order))
        if not batches:
            return [], []
        return self.timeline.push_batches(batches)

    @property
    def malformed(self) -> int:
        return sum(s.malformed for s in self.stats.values())


@dataclass
class SensorStatus:
    """Health of one sensor as the coach's screen shows it."""

    role: str
    family: str = ""
    address: str = ""
    state: str = "searching"
    detail: str = ""
    rate_hz: float = 0.0
    effective_rate_hz: float = 0.0
    packets: int = 0
    samples: int = 0
    lost_packets: int = 0
    lost_samples: int = 0
    #: False when the lost counts are estimated (a family without device time: shown as "≈").
    lost_exact: bool = True
    #: Samples handed on with one of their two streams (Polar's acc or gyro) filled across a short
    #: hole (counted in ``samples``; see ``gaitmon.stream.timing.MAX_FILL_S``).
    interpolated_samples: int = 0
    malformed: int = 0
    duplicates: int = 0
    late: int = 0
    gaps: int = 0
    #: Times the stream was started again after a drop or a stall.
    reconnects: int = 0
    #: Times the sensor stopped streaming while connected (see ``gaitmon.sources.ble``).
    stalls: int = 0
    battery_pct: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class LiveSession:
    """Events, gaps and health of one athlete's sensors, fed by the acquisition layer or a replay.

    Parameters
    ----------
    athlete : str
    placement : {"shank", "foot"}
    """

    athlete: str = ""
    placement: str = "shank"
    events: list[GaitEvent] = field(default_factory=list)
    gaps: list[GapMark] = field(default_factory=list)
    feeds: dict[str, SensorFeed] = field(default_factory=dict)
    legs: dict[str, LegPipeline] = field(default_factory=dict)
    status: dict[str, SensorStatus] = field(default_factory=dict)
    #: Optional observer of the decoded sample blocks (e.g. :class:`gaitmon.session.spool.SampleSpool`
    #: keeping them on disk for the report). Nothing of the stream is kept here: memory stays flat.
    block_listener: BlockListener | None = None
    #: Optional observer of what each leg's step core is fed (the dashboard's traces, the report's).
    projection_listener: ProjectionListener | None = None
    #: Optional observer of the events as they are confirmed (a Lab Streaming Layer marker outlet).
    event_listener: EventListener | None = None

    def _status(self, role: str) -> SensorStatus:
        return self.status.setdefault(role, SensorStatus(role))

    # -- the sink interface (gaitmon.stream.sink.Sink) ------------------------------------------------
    def on_state(self, role: str, state: str, detail: str = "", address: str = "", battery_pct: int | None = None,
                 device: DeviceInfo | None = None):
        status = self._status(role)
        status.state, status.detail = state, detail
        if address:
            status.address = address
        if battery_pct is not None:
            status.battery_pct = battery_pct

    def on_configured(self, role: str, setup: StreamSetup, host_t: float) -> None:
        feed = self.feeds.get(role)
        status = self._status(role)
        if feed is not None and feed.setup == setup:
            feed.timeline.reconnected(host_t)
            status.reconnects += 1
        else:
            self.feeds[role] = SensorFeed(role, setup)
            self.legs[role] = LegPipeline(role, DetectorParams(sample_rate_hz=setup.rate_hz, placement=self.placement))
        status.family, status.rate_hz = setup.family, setup.rate_hz

    def on_data(self, role: str, stream: str, host_t: float, payload: bytes) -> list[GaitEvent]:
        feed = self.feeds.get(role)
        if feed is None:
            return []
        blocks, gaps = feed.feed(stream, host_t, payload)
        return self._consume(role, blocks, gaps)

    def on_data_batch(self, role: str, parts) -> list[GaitEvent]:
        """Many notifications of one sensor at once, as :meth:`on_data` of each in arrival order would
        give (a replay): ``parts`` is ``[(stream, host_t (N,) s, payloads, order (N,))]`` (see
        :meth:`SensorFeed.feed_batch`). The leg's core is fed the samples in one block."""
        feed = self.feeds.get(role)
        if feed is None:
            return []
        blocks, gaps = feed.feed_batch(parts)
        return self._consume(role, blocks, gaps)

    def on_disconnected(self, role: str, host_t: float, cause: str = "disconnected") -> list[GaitEvent]:
        feed = self.feeds.get(role)
        if feed is None:
            return []
        if cause == "stalled":
            self._status(role).stalls += 1
        blocks, gaps = feed.timeline.disconnected(cause)
        return self._consume(role, blocks, gaps)

    def finish(self) -> list[GaitEvent]:
        """End of the stream: release the samples the timing layer still holds back."""
        new: list[GaitEvent] = []
        for role, feed in self.feeds.items():
            blocks, gaps = feed.timeline.disconnected()
            new += self._consume(role, blocks, gaps)
        return new

    def _consume(self, role: str, blocks: list[SampleBlock], gaps: list[GapMark]) -> list[GaitEvent]:
        self.gaps += gaps
        new: list[GaitEvent] = []
        if blocks:
            leg = self.legs[role]
            # One feed of the core (its events do not depend on how the stream is split).
            if len(blocks) == 1:
                t, x = blocks[0].t, blocks[0].x
            else:
                t, x = np.concatenate([b.t for b in blocks]), np.concatenate([b.x for b in blocks])
            new = leg.feed(t, x)
            if self.block_listener is not None:
                self.block_listener(role, blocks)
            if len(leg.projected[0]) and self.projection_listener is not None:
                self.projection_listener(role, *leg.projected)
            if new and self.event_listener is not None:
                self.event_listener(role, new)
        self.events += new
        return new

    # -- views ---------------------------------------------------------------------------------------
    def health(self) -> dict[str, SensorStatus]:
        """Per-sensor status with the latest counts."""
        for role, feed in self.feeds.items():
            status, h = self._status(role), feed.timeline.health
            status.packets, status.samples = h.packets, h.samples
            status.lost_packets, status.lost_samples, status.lost_exact = h.lost_packets, h.lost_samples, h.lost_exact
            status.interpolated_samples = h.interpolated_samples
            status.duplicates, status.late, status.gaps = h.duplicates + feed.identical_repeats, h.late, h.gaps
            status.effective_rate_hz = h.effective_rate_hz
            status.malformed = feed.malformed + h.bad_device_time  # a corrupt time stamp is a corrupt packet
        return self.status

    def steps(self) -> list[Step]:
        """The steps of everything so far (see :func:`gaitmon.analysis.steps.build_steps`)."""
        return build_steps(sorted(self.events), sides=self.legs)
