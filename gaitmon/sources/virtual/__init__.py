"""Emulated BLE sensors driven by the simulator, behind a bleak backend (tests, demo, benchmarks).

:func:`emulated_pair` is the usual entry: a simulated sprint session, one emulated sensor of the
chosen family on each shank, and the :class:`~gaitmon.sources.virtual.backend.VirtualAir` whose
``backends`` pair is handed to :mod:`gaitmon.sources.ble` in place of the real radio.
"""

from __future__ import annotations

from dataclasses import dataclass

from gaitmon.sim import SimConfig, SimulatedSession, simulate_session
from gaitmon.sim.knee_lift import knee_lift
from gaitmon.sources.virtual.backend import VirtualAir
from gaitmon.sources.virtual.devices import DEVICES
from gaitmon.sources.virtual.peripheral import Faults, FaultLog, VirtualPeripheral

#: Advertised names and addresses of the emulated pair: left, right.
PAIR = {"left": ("L", "C0:FF:EE:00:00:01"), "right": ("R", "C0:FF:EE:00:00:02")}


@dataclass
class EmulatedPair:
    """A simulated session streamed by two emulated sensors."""

    family: str
    air: VirtualAir
    session: SimulatedSession
    devices: dict[str, VirtualPeripheral]

    @property
    def backends(self):
        return self.air.scanner_backend, self.air.client_backend

    @property
    def addresses(self) -> dict[str, str]:
        return {side: device.address for side, device in self.devices.items()}

    def lift_knee(self, side: str, lead_s: float = 0.1, noise_seed: int = 0) -> None:
        """The emulated athlete lifts the ``side`` knee once, from standing, starting ``lead_s`` s
        from now (:func:`~gaitmon.sim.knee_lift.knee_lift`: the lifting shank rotates, the other
        stands still, each in its sensor's mounting); callable from any thread once the air is in use."""
        self.air.call_soon(self._lift_knee, side, lead_s, noise_seed)

    def _lift_knee(self, side: str, lead_s: float, noise_seed: int) -> None:
        start_s = self.air.sim_time() + lead_s
        for leg, device in self.devices.items():
            rows = knee_lift(side, device.nominal_rate_hz, self.session.mounting, noise_seed)[leg]
            device.perform(rows, start_s)


def emulated_pair(family: str = "gaitmon_diy", scenario: str = "swing_plateau", seed: int = 0,
                  rate_hz: float | None = None, faults: dict[str, Faults] | None = None,
                  drift_ppm: tuple[float, float] = (0.0, 0.0), sides=("left", "right"), **sim_overrides) -> EmulatedPair:
    """Simulate a session and put one emulated ``family`` sensor on each shank.

    Parameters
    ----------
    family : str
        A key of :data:`gaitmon.sources.virtual.devices.DEVICES`.
    rate_hz : float, optional
        Streaming rate (the device's default when omitted); the simulation is made at this rate.
    faults : dict, optional
        side → :class:`Faults`.
    drift_ppm : (left, right)
        Crystal error of each sensor (``SimConfig.clock_error_ppm``).
    sim_overrides
        Any :class:`~gaitmon.sim.SimConfig` field (defaults: all realism on except the simulator's
        own sample drops — losses here come from the link's faults).
    """
    device_type = DEVICES[family]
    rate = float(rate_hz or device_type.default_rate)
    options = dict(n_reps=3, recovery_s=10.0, drop_rate=0.0, clock_error_ppm=tuple(drift_ppm))
    options.update(sim_overrides)
    session = simulate_session(scenario, seed=seed, config=SimConfig.realistic(rate, **options))
    faults = faults or {}
    devices = {}
    for side in sides:
        letter, address = PAIR[side]
        t, x = session.samples[side]
        devices[side] = device_type(address, device_type.advertised_name(letter), t, x, rate,
                                    faults.get(side), rssi=-55 if side == "left" else -62)
    return EmulatedPair(family, VirtualAir(list(devices.values())), session, devices)


__all__ = ["DEVICES", "EmulatedPair", "FaultLog", "Faults", "VirtualAir", "emulated_pair"]
