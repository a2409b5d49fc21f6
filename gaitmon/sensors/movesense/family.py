"""Movesense with the ``gatt_sensordata_app`` firmware (GSP): HELLO, then subscribe ``/Meas/IMU6/<rate>``.

The sample firmware answers a successful subscribe with data, not with a result (only an error such
as 507 "no free slot" comes back as a COMMAND_RESULT), so start waits briefly for either.
"""

from __future__ import annotations

import asyncio

from gaitmon.sensors.movesense import protocol as movesense
from gaitmon.sensors.decoder import MalformedPacket
from gaitmon.sensors.family import ConfigurationError, DataSink, Replies, SensorFamily, StreamSetup
from gaitmon.sensors.family import StreamSpec

REF = movesense.DEFAULT_CLIENT_REF
HELLO_REF = 1
#: How long start waits for an error result after subscribing before taking silence as success.
SUBSCRIBE_SETTLE_S = 0.3


class Movesense(SensorFamily):
    name = "movesense"
    label = "Movesense (GSP)"
    manufacturer = "Movesense"
    service_uuid = movesense.SERVICE_UUID
    name_prefixes = ("Movesense",)
    rates = tuple(float(r) for r in movesense.IMU6_RATES_HZ)
    default_rate = 416.0

    async def start(self, client, rate_hz: float, on_data: DataSink, on_stopped=None) -> StreamSetup:
        replies = Replies()
        configuring = True

        def route(characteristic, payload: bytearray) -> None:
            # Well-formed results answer our commands while configuring; everything else goes to the
            # stream's decoder, which counts results and malformed packets alike.
            if configuring and payload and payload[0] == movesense.RESP_COMMAND_RESULT and _is_result(payload):
                replies(characteristic, payload)
            else:
                on_data("imu", payload)

        await client.start_notify(movesense.DATA_UUID, route)
        await client.write_gatt_char(movesense.COMMAND_UUID, movesense.hello_command(HELLO_REF), response=True)
        hello = movesense.MovesenseDecoder(rate_hz, client_ref=HELLO_REF).decode(await replies.next())
        if hello.info.get("text", "").lower() != "hello":
            raise ConfigurationError(f"not a GSP firmware (HELLO answered {hello.info})")
        path = movesense.imu6_path(int(rate_hz))
        await client.write_gatt_char(movesense.COMMAND_UUID, movesense.subscribe_command(REF, path), response=True)
        try:
            result = movesense.MovesenseDecoder(rate_hz, client_ref=REF).decode(await replies.next(SUBSCRIBE_SETTLE_S))
        except TimeoutError:
            result = None
        configuring = False
        if result is not None and result.info.get("status", 200) >= 300:
            raise ConfigurationError(f"Movesense refused {path}: status {result.info['status']}")
        return StreamSetup(self.name, rate_hz, {"imu": movesense.DATA_UUID}, {"client_ref": REF})

    async def stop(self, client) -> None:
        await client.write_gatt_char(movesense.COMMAND_UUID, movesense.unsubscribe_command(REF), response=True)
        await asyncio.sleep(0)

    def decoders(self, setup: StreamSetup):
        return {"imu": movesense.MovesenseDecoder(setup.rate_hz, client_ref=setup.settings["client_ref"])}

    def stream_specs(self, setup: StreamSetup):
        return {"imu": StreamSpec("imu", device_time_modulus_s=2**32 / 1e3, resolution_s=1e-3)}


def _is_result(payload: bytes) -> bool:
    if len(payload) < 2:  # a result cut short: decoding it as the reply says so (MalformedPacket)
        return True
    try:
        return movesense.MovesenseDecoder(1.0, client_ref=payload[1] or 1).decode(bytes(payload)).kind == "reply"
    except MalformedPacket:
        return False
