"""Polar Verity Sense (and H10 acc) over PMD: SDK mode for rates above 52 Hz, ACC + GYRO streams.

Both streams arrive on the one PMD data characteristic as separate frames; the first byte (the
measurement type) routes each frame to its stream. The gyro's scale (FACTOR) comes from its start
reply and is recorded in the setup.
"""

from __future__ import annotations

from gaitmon.sensors.polar import protocol as polar
from gaitmon.sensors.decoder import MalformedPacket
from gaitmon.sensors.family import ConfigurationError, DataSink, Replies, SensorFamily, StopSink, StreamSetup
from gaitmon.sensors.family import StreamSpec

ACC_RANGE_G = 16
GYRO_RANGE_DPS = 2000


def _stopped(data: bytes) -> str | None:
    """What a measurement-stopped control-point notification says stopped (e.g. "ACC, GYRO"), else None."""
    if not data or data[0] != polar.ONLINE_MEASUREMENT_STOPPED:
        return None
    try:
        event = polar.PolarControlPointDecoder().decode(bytes(data))
    except MalformedPacket:
        return None  # garbled: left to the command that waits for a reply
    return ", ".join(event.info["type_names"])


def stream_of(frame: bytes) -> str:
    """``"gyro"`` for GYRO frames; everything else goes to the acc decoder (which rejects non-ACC)."""
    return "gyro" if frame and frame[0] & polar.TYPE_MASK == polar.GYRO else "acc"


class PolarVeritySense(SensorFamily):
    name = "polar_pmd"
    label = "Polar Verity Sense"
    manufacturer = "Polar Electro"
    service_uuid = polar.SERVICE_UUID
    name_prefixes = ("Polar Sense", "Polar OH1", "Polar Verity")
    rates = tuple(float(r) for r in polar.VERITY_RATES_HZ)
    default_rate = 416.0

    async def start(self, client, rate_hz: float, on_data: DataSink, on_stopped: StopSink | None = None) -> StreamSetup:
        replies = Replies()

        def control(characteristic, data: bytearray) -> None:
            # The sensor's own "measurement stopped" is news for the link, not a reply to a command.
            stopped = _stopped(data)
            if stopped is None:
                replies(characteristic, data)
            elif on_stopped is not None:
                on_stopped(stopped)

        # Read the features before subscribing: BlueZ signals every value read to the subscribers
        # of the characteristic, so the bitmap would also arrive as a (malformed) command reply.
        features = polar.parse_feature_bitmap(await client.read_gatt_char(polar.CONTROL_POINT_UUID))
        # The PMD service answers commands only once both characteristics notify.
        await client.start_notify(polar.CONTROL_POINT_UUID, control)
        await client.start_notify(polar.DATA_UUID, lambda _c, frame: on_data(stream_of(frame), frame))
        if not {polar.ACC, polar.GYRO} <= features:
            raise ConfigurationError("this Polar sensor has no gyroscope stream (an H10?): gaitmon needs ACC + GYRO")
        rate = int(rate_hz)
        if rate > 52:
            await self._command(client, replies, polar.sdk_mode_start_command(), "SDK mode", ok_if_already=True)
        await self._command(client, replies, polar.start_command(polar.ACC, rate, 16, ACC_RANGE_G, 3), "ACC start",
                            ok_if_already=False)
        gyro = await self._command(client, replies, polar.start_command(polar.GYRO, rate, 16, GYRO_RANGE_DPS, 3),
                                   "GYRO start", ok_if_already=False)
        gyro_factor = gyro.factor if gyro.factor is not None else polar.VERITY_GYRO_FACTORS[GYRO_RANGE_DPS]
        return StreamSetup(self.name, float(rate), {"acc": polar.DATA_UUID, "gyro": polar.DATA_UUID},
                           {"acc_factor": polar.VERITY_ACC_FACTOR, "gyro_factor": float(gyro_factor)})

    async def _command(self, client, replies: Replies, command: bytes, what: str, ok_if_already: bool):
        await client.write_gatt_char(polar.CONTROL_POINT_UUID, command, response=True)
        while True:
            reply = polar.PolarControlPointDecoder().decode(await replies.next())
            if reply.info.get("event") == "response" and reply.info["op"] == command[0]:
                break
        status = reply.info["status"]
        if status != 0 and not (ok_if_already and reply.info["status_text"] == "ERROR_ALREADY_IN_STATE"):
            raise ConfigurationError(f"Polar refused {what}: {reply.info['status_text']}")
        return reply.info["reply"]

    async def stop(self, client) -> None:
        for command in (polar.stop_command(polar.ACC), polar.stop_command(polar.GYRO), polar.sdk_mode_stop_command()):
            await client.write_gatt_char(polar.CONTROL_POINT_UUID, command, response=True)

    def decoders(self, setup: StreamSetup):
        return {"acc": polar.PolarPmdDecoder(polar.ACC, setup.rate_hz, factor=setup.settings["acc_factor"]),
                "gyro": polar.PolarPmdDecoder(polar.GYRO, setup.rate_hz, factor=setup.settings["gyro_factor"])}

    def stream_specs(self, setup: StreamSetup):
        return {"acc": StreamSpec("acc", resolution_s=1e-9), "gyro": StreamSpec("gyro", resolution_s=1e-9)}
