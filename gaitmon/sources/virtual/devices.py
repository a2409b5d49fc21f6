"""The emulated sensors, one class per family: GATT table, firmware behaviour, exact notification bytes.

Each device streams the simulator's samples on its own clock (device time of sample *i* is
``clock_offset + i / rate``: one crystal drives sampling and clock, so drift shows only against the
host) and answers its family's commands as the vendor documents them (``ble-protocols.md``).
"""

from __future__ import annotations

import itertools
import struct
from typing import Iterator

import numpy as np

from gaitmon.sensors.diy import protocol as diy
from gaitmon.sensors.movesense import protocol as movesense
from gaitmon.sensors.polar import protocol as polar
from gaitmon.sensors.witmotion import protocol as witmotion
from gaitmon.sensors.decoder import MalformedPacket
from gaitmon.sources.virtual.peripheral import (BATTERY_SERVICE, Characteristic, Frame, GattError, Service,
                                                VirtualPeripheral, device_information_service,
                                                rejected_corruption)

#: What every emulated sensor with a Device Information Service says about itself: the emulator made it.
EMULATED = {
    "manufacturer": "gaitmon sensor emulator",
    "model": "emulated {label}",
    "serial_number": "EMU-{serial}",
    "firmware": "gaitmon-emulator {version}",
}


class VirtualGaitmonBoard(VirtualPeripheral):
    """A DIY nRF52840 board running the gaitmon GATT profile v1."""

    family = "gaitmon_diy"
    DEVICE_INFORMATION = {**EMULATED, "hardware": "virtual-nrf52840"}
    services = (
        Service(diy.SERVICE_UUID, (
            Characteristic(diy.DATA_UUID, ("notify",)),
            Characteristic(diy.CONTROL_UUID, ("write", "notify")),
            Characteristic(diy.INFO_UUID, ("read",)),
        )),
        BATTERY_SERVICE,
        device_information_service(DEVICE_INFORMATION),
    )
    advertised_uuids = (diy.SERVICE_UUID,)
    default_rate = 1000.0
    NAME_FORMAT = "gaitmon-{}"
    #: Device clock at sim t = 0, µs (free-running since power-on; wraps at 2³² µs).
    CLOCK_OFFSET_US = 4_290_000_000

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rate = 0.0

    def on_read(self, char_uuid: str) -> bytes:
        if char_uuid == diy.INFO_UUID:
            return b"gaitmon-diy/1 virtual-nrf52840 virtual-imu"
        return super().on_read(char_uuid)

    def on_write(self, char_uuid: str, data: bytes) -> None:
        if char_uuid != diy.CONTROL_UUID:
            raise GattError(0x03, "write not permitted")
        command = data[0] if data else 0
        if command == diy.CMD_START and len(data) == 5:
            rate = int.from_bytes(data[1:3], "little")
            if rate != round(self.nominal_rate_hz):
                self.notify(diy.CONTROL_UUID, bytes([0x80 | command, 1]))
                return
            self.rate = float(rate)
            self.notify(diy.CONTROL_UUID, bytes([0x80 | command, 0]))
            self.start_streaming()
        elif command == diy.CMD_STOP:
            self.stop_streaming()
            self.notify(diy.CONTROL_UUID, bytes([0x80 | command, 0]))
        elif command == diy.CMD_INFO:
            self.notify(diy.CONTROL_UUID, bytes([0x83, 0]) + int(self.rate).to_bytes(2, "little")
                        + bytes([3, 3, self.battery_pct, 0]))
        else:
            self.notify(diy.CONTROL_UUID, bytes([0x80 | command, 4]))

    def frames(self, first_sample: int) -> Iterator[Frame]:
        per_packet = max(1, min(diy.MAX_SAMPLES, round(self.rate / 100)))  # ~100 notifications/s
        counter0 = first_sample  # start resets the counter: count from the first sample sent
        for i, j in self.chunks(first_sample, per_packet):
            time_us = int(self.CLOCK_OFFSET_US + round(i * 1e6 / self.rate)) & 0xFFFFFFFF
            x = self.samples(i, j)
            data = diy.encode_data(i - counter0, time_us, x[:, :3], x[:, 3:])
            yield Frame(self.send_time(j - 1), diy.DATA_UUID, data, j - i, i)

    def corrupt(self, data: bytes, rng: np.random.Generator) -> bytes:
        return rejected_corruption(data, rng, diy.GaitmonProfileDecoder(self.rate).decode)


class VirtualPolarVeritySense(VirtualPeripheral):
    """A Polar Verity Sense: PMD service, SDK mode for rates above 52 Hz, ACC (0x81) and GYRO (0x80) frames."""

    family = "polar_pmd"
    default_rate = 416.0
    NAME_FORMAT = "Polar Sense {}0A1B2C3"
    DEVICE_INFORMATION = {**EMULATED, "hardware": "emulated", "software": "PMD emulation {version}"}
    services = (
        Service(polar.SERVICE_UUID, (
            Characteristic(polar.CONTROL_POINT_UUID, ("read", "write", "notify")),
            Characteristic(polar.DATA_UUID, ("notify",)),
        )),
        BATTERY_SERVICE,
        device_information_service(DEVICE_INFORMATION),
    )
    advertised_uuids = (polar.SERVICE_UUID,)
    #: Device clock at sim t = 0: ns since 2000-01-01 (the sensor's time was set by its phone app).
    CLOCK_OFFSET_NS = 848_534_400 * 10**9
    GYRO_FACTOR = polar.VERITY_GYRO_FACTORS[2000]
    #: Samples per frame: a frame about every 40 ms.
    FRAME_S = 0.04

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sdk_mode = False
        self.running: dict[int, int] = {}  # measurement type → rate

    def on_read(self, char_uuid: str) -> bytes:
        if char_uuid == polar.CONTROL_POINT_UUID:
            return bytes([0x0F, 0x04 | 0x20, 0x02])  # ACC, GYRO; SDK mode
        return super().on_read(char_uuid)

    def on_disconnect(self) -> None:
        super().on_disconnect()
        self.running.clear()
        self.sdk_mode = False

    def announce_stop(self) -> None:
        """ONLINE_MEASUREMENT_STOPPED for every running measurement (what the firmware sends when it
        stops streams by itself)."""
        types = bytes(sorted(self.running))
        self.running.clear()
        self.notify(polar.CONTROL_POINT_UUID, bytes([polar.ONLINE_MEASUREMENT_STOPPED]) + types)

    def _reply(self, op: int, mtype: int, status: int, parameters: bytes = b"") -> None:
        self.notify(polar.CONTROL_POINT_UUID, bytes([polar.RESPONSE_CODE, op, mtype, status, 0]) + parameters)

    def on_write(self, char_uuid: str, data: bytes) -> None:
        if char_uuid != polar.CONTROL_POINT_UUID or len(data) < 2:
            raise GattError(0x03, "write not permitted")
        op, mtype = data[0], data[1] & polar.TYPE_MASK
        if not {polar.CONTROL_POINT_UUID, polar.DATA_UUID} <= self._subscribed:
            return self._reply(op, mtype, 12)  # invalid state: the SDK subscribes both first
        if op == polar.OP_REQUEST_MEASUREMENT_START and mtype == polar.SDK_MODE:
            self.sdk_mode = True
            return self._reply(op, mtype, 0)
        if op == polar.OP_STOP_MEASUREMENT and mtype == polar.SDK_MODE:
            self.sdk_mode = False
            return self._reply(op, mtype, 0)
        if op == polar.OP_STOP_MEASUREMENT:
            self.running.pop(mtype, None)
            if not self.running:
                self.stop_streaming()
            return self._reply(op, mtype, 0)
        if op != polar.OP_REQUEST_MEASUREMENT_START or mtype not in (polar.ACC, polar.GYRO):
            return self._reply(op, mtype, 3)
        try:
            settings = polar.parse_settings(data[2:])
        except MalformedPacket:
            return self._reply(op, mtype, 4)
        rate = settings.get("sample_rate_hz", [0])[0]
        if rate not in polar.VERITY_RATES_HZ or (rate > 52 and not self.sdk_mode) or rate != self.nominal_rate_hz:
            return self._reply(op, mtype, 8)
        self.running[mtype] = rate
        factor = b"" if mtype == polar.ACC else bytes([polar.SETTING_FACTOR, 1]) + struct.pack("<f", self.GYRO_FACTOR)
        self._reply(op, mtype, 0, factor)
        if set(self.running) == {polar.ACC, polar.GYRO}:
            self.start_streaming()

    def frames(self, first_sample: int) -> Iterator[Frame]:
        rate = self.nominal_rate_hz
        per_frame = max(1, round(rate * self.FRAME_S))
        for i, j in self.chunks(first_sample, per_frame):
            stamp = self.CLOCK_OFFSET_NS + round((j - 1) * 1e9 / rate)
            send = self.send_time(j - 1)
            x = self.samples(i, j)
            acc = polar.si_to_counts(x[:, :3], polar.ACC, polar.VERITY_ACC_FACTOR)
            gyro = polar.si_to_counts(x[:, 3:], polar.GYRO, self.GYRO_FACTOR)
            yield Frame(send, polar.DATA_UUID, polar.encode_frame(polar.ACC, stamp, acc), j - i, i)
            yield Frame(send, polar.DATA_UUID, polar.encode_frame(polar.GYRO, stamp, gyro), j - i, i)

    def corrupt(self, data: bytes, rng: np.random.Generator) -> bytes:
        gyro = data[0] & polar.TYPE_MASK == polar.GYRO
        decoder = polar.PolarPmdDecoder(polar.GYRO if gyro else polar.ACC, self.nominal_rate_hz,
                                        factor=self.GYRO_FACTOR if gyro else 1.0)
        other = polar.PolarPmdDecoder(polar.ACC if gyro else polar.GYRO, self.nominal_rate_hz)

        def decode_as_routed(candidate: bytes):
            target = other if candidate and (candidate[0] & polar.TYPE_MASK == polar.GYRO) != gyro else decoder
            return target.decode(candidate)

        return rejected_corruption(data, rng, decode_as_routed)


class VirtualMovesense(VirtualPeripheral):
    """A Movesense sensor running ``gatt_sensordata_app``: HELLO, subscribe /Meas/IMU6/<rate>."""

    family = "movesense"
    default_rate = 416.0
    NAME_FORMAT = "Movesense 2240{}0123"
    DEVICE_INFORMATION = {**EMULATED, "hardware": "emulated"}
    services = (Service(movesense.SERVICE_UUID, (
        Characteristic(movesense.COMMAND_UUID, ("write",)),
        Characteristic(movesense.DATA_UUID, ("notify",)),
    )), device_information_service(DEVICE_INFORMATION))
    advertised_uuids = (movesense.SERVICE_UUID,)
    #: Device clock at sim t = 0, ms since power-on.
    CLOCK_OFFSET_MS = 7_654_321

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ref = 0

    def on_write(self, char_uuid: str, data: bytes) -> None:
        if char_uuid != movesense.COMMAND_UUID or len(data) < 2:
            raise GattError(0x03, "write not permitted")
        command, ref = data[0], data[1]
        if command == movesense.CMD_HELLO:
            self.notify(movesense.DATA_UUID, movesense.encode_hello_reply(ref))
        elif command == movesense.CMD_SUBSCRIBE:
            path = data[2:].decode("utf-8", "replace")
            if path != movesense.imu6_path(int(self.nominal_rate_hz)):
                self.notify(movesense.DATA_UUID, movesense.encode_command_result(ref, 404))
                return
            self.ref = ref
            self.start_streaming()
        elif command == movesense.CMD_UNSUBSCRIBE:
            self.stop_streaming()

    def frames(self, first_sample: int) -> Iterator[Frame]:
        rate = self.nominal_rate_hz
        per_packet = movesense.samples_per_notification(int(rate))
        for i, j in self.chunks(first_sample, per_packet):
            first_ms = (self.CLOCK_OFFSET_MS + int(i * 1000 // rate)) & 0xFFFFFFFF  # the firmware's ms tick
            x = self.samples(i, j)
            data = movesense.encode_imu6(self.ref, first_ms, x[:, :3], x[:, 3:])
            yield Frame(self.send_time(j - 1), movesense.DATA_UUID, data, j - i, i)

    def corrupt(self, data: bytes, rng: np.random.Generator) -> bytes:
        return rejected_corruption(data, rng, movesense.MovesenseDecoder(self.nominal_rate_hz, client_ref=self.ref).decode)


class VirtualWitMotion(VirtualPeripheral):
    """A WitMotion BWT901BLE5.0: streams 0x61 packets at the return rate once notifications are on."""

    family = "witmotion"
    default_rate = 200.0
    NAME_FORMAT = "WT901BLE68{}"
    # No Device Information Service: whether the stock module has one is not documented.
    services = (Service(witmotion.SERVICE_UUID, (
        Characteristic(witmotion.NOTIFY_UUID, ("notify",)),
        Characteristic(witmotion.WRITE_UUID, ("write-without-response", "write")),
    )),)
    advertised_uuids = (witmotion.SERVICE_UUID,)
    #: How long a write to a register stays allowed after the unlock command (sister product's manual).
    UNLOCK_S = 10.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rate = float(witmotion.DEFAULT_RATE_HZ)
        self._unlocked_until = -1.0

    def on_write(self, char_uuid: str, data: bytes) -> None:
        if char_uuid != witmotion.WRITE_UUID:
            raise GattError(0x03, "write not permitted")
        if len(data) != 5 or data[:2] != witmotion.COMMAND_PREFIX:
            return  # the firmware ignores what it does not understand
        register, value = data[2], int.from_bytes(data[3:5], "little")
        now = self.air.sim_time()
        if register == witmotion.REG_UNLOCK and value == witmotion.UNLOCK_VALUE:
            self._unlocked_until = now + self.UNLOCK_S
        elif register == witmotion.REG_RATE and now < self._unlocked_until:
            rates = {code: rate for rate, code in witmotion.RATE_CODES.items()}
            if value in rates:
                self.rate = float(rates[value])
                if self.streaming:
                    self.start_streaming()

    def subscribe(self, char_uuid: str, enabled: bool) -> None:
        super().subscribe(char_uuid, enabled)
        if char_uuid == witmotion.NOTIFY_UUID:
            self.start_streaming() if enabled else self.stop_streaming()

    def frames(self, first_sample: int) -> Iterator[Frame]:
        step = max(1, round(self.nominal_rate_hz / self.rate))  # slower return rates skip samples
        for i in itertools.count(first_sample, step):
            x = self.samples(i, i + 1)[0]
            data = witmotion.encode_sample(x[:3], x[3:])
            yield Frame(self.send_time(i), witmotion.NOTIFY_UUID, data, 1, i)

    def corrupt(self, data: bytes, rng: np.random.Generator) -> bytes:
        """A garbled header: every byte becomes resync junk, so the decoder rejects the notification."""
        return bytes([0xAA]) + data[1:].replace(b"\x55", b"\x54")


#: family name → emulated device class.
DEVICES: dict[str, type[VirtualPeripheral]] = {device.family: device for device in (
    VirtualPolarVeritySense, VirtualMovesense, VirtualWitMotion, VirtualGaitmonBoard)}
