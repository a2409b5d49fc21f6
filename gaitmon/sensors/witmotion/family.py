"""WitMotion BWT901BLE5.0 / WT901BLECL: unlock, set the return rate, save; it then streams 0x61 packets.

No device time and no counter: samples are timed by arrival (``gaitmon.stream.timing``), lost packets
cannot be counted from the data, and a repeated notification is recognised only by its identical
bytes. Ranges are fixed at ±16 g and ±2000 °/s.
"""

from __future__ import annotations

import asyncio

from gaitmon.sensors.witmotion import protocol as witmotion
from gaitmon.sensors.family import DataSink, SensorFamily, StreamSetup
from gaitmon.sensors.family import StreamSpec


class WitMotion(SensorFamily):
    name = "witmotion"
    label = "WitMotion BWT901BLE"
    manufacturer = "WitMotion"
    service_uuid = witmotion.SERVICE_UUID
    name_prefixes = ("WT901", "BWT901")
    rates = tuple(float(r) for r in witmotion.SUPPORTED_RATES_HZ)
    default_rate = 200.0
    dedupe_identical = True

    async def start(self, client, rate_hz: float, on_data: DataSink, on_stopped=None) -> StreamSetup:
        # Configure before subscribing, so no packet at the old rate enters the stream.
        for command, pause_s in witmotion.setup_commands(int(rate_hz)):
            await client.write_gatt_char(witmotion.WRITE_UUID, command, response=False)
            await asyncio.sleep(pause_s)
        await client.start_notify(witmotion.NOTIFY_UUID, lambda _c, data: on_data("imu", data))
        return StreamSetup(self.name, rate_hz, {"imu": witmotion.NOTIFY_UUID})

    def decoders(self, setup: StreamSetup):
        return {"imu": witmotion.WitMotionDecoder(setup.rate_hz)}

    def stream_specs(self, setup: StreamSetup):
        return {"imu": StreamSpec("imu", clock="arrival")}
