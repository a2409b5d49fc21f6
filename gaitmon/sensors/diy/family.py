"""The open gaitmon GATT profile for DIY boards (``firmware_notes/gaitmon-gatt-profile.md``)."""

from __future__ import annotations

from gaitmon.sensors.diy import protocol as diy
from gaitmon.sensors.family import ConfigurationError, DataSink, Replies, SensorFamily, StreamSetup
from gaitmon.sensors.family import StreamSpec


class GaitmonDIY(SensorFamily):
    name = "gaitmon_diy"
    label = "gaitmon DIY board"
    manufacturer = "self-built"
    service_uuid = diy.SERVICE_UUID
    name_prefixes = ("gaitmon-",)
    rates = (104.0, 200.0, 208.0, 416.0, 500.0, 833.0, 1000.0)
    default_rate = 1000.0

    async def start(self, client, rate_hz: float, on_data: DataSink, on_stopped=None) -> StreamSetup:
        replies = Replies()
        await client.start_notify(diy.CONTROL_UUID, replies)
        await client.start_notify(diy.DATA_UUID, lambda _c, data: on_data("imu", data))
        await client.write_gatt_char(diy.CONTROL_UUID, diy.start_command(int(rate_hz)), response=True)
        reply = diy.GaitmonProfileDecoder(rate_hz).decode(await replies.next())
        if reply.kind != "reply" or reply.info["command"] != diy.CMD_START:
            raise ConfigurationError(f"unexpected answer to start: {reply.info}")
        if reply.info["status"] != 0:
            raise ConfigurationError(f"board refused {rate_hz:g} Hz: {reply.info['status_text']}")
        return StreamSetup(self.name, rate_hz, {"imu": diy.DATA_UUID})

    async def stop(self, client) -> None:
        await client.write_gatt_char(diy.CONTROL_UUID, diy.stop_command(), response=True)

    def decoders(self, setup: StreamSetup):
        return {"imu": diy.GaitmonProfileDecoder(setup.rate_hz)}

    def stream_specs(self, setup: StreamSetup):
        return {"imu": StreamSpec("imu", device_time_modulus_s=2**32 / 1e6)}
