"""The emulated sensors, one class per family: GATT table, firmware behaviour, exact notification bytes.

Each device streams the simulator's samples on its own clock (device time of sample *i* is
``clock_offset + i / rate``: one crystal drives sampling and clock, so drift shows only against the
host) and answers its family's commands as the vendor documents them (``ble-protocols.md``).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from gaitmon.decoders import diy
from gaitmon.sources.virtual.peripheral import (BATTERY_SERVICE, Characteristic, Frame, GattError, Service,
                                                VirtualPeripheral, rejected_corruption)


class VirtualGaitmonBoard(VirtualPeripheral):
    """A DIY nRF52840 board running the gaitmon GATT profile v1."""

    family = "gaitmon_diy"
    rates = (104.0, 200.0, 208.0, 416.0, 500.0, 833.0, 1000.0)
    services = (
        Service(diy.SERVICE_UUID, (
            Characteristic(diy.DATA_UUID, ("notify",)),
            Characteristic(diy.CONTROL_UUID, ("write", "notify")),
            Characteristic(diy.INFO_UUID, ("read",)),
        )),
        BATTERY_SERVICE,
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
            data = diy.encode_data(i - counter0, time_us, self.x[i:j, :3], self.x[i:j, 3:])
            yield Frame(self.send_time(j - 1), diy.DATA_UUID, data, j - i)

    def corrupt(self, data: bytes, rng: np.random.Generator) -> bytes:
        return rejected_corruption(data, rng, diy.GaitmonProfileDecoder(self.rate).decode)


#: family name → emulated device class.
DEVICES: dict[str, type[VirtualPeripheral]] = {device.family: device for device in (VirtualGaitmonBoard,)}
