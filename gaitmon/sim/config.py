"""Settings of the simulator: every realism switch in one dataclass."""

from __future__ import annotations

from dataclasses import dataclass

MOUNTINGS = ("canonical", "random")


#: The realism switches, all on (``SimConfig.realistic``) and all off (``SimConfig.ideal``).
_REALISM_ON = dict(noise=True, gyro_bias=True, mounting="random", clipping=True, asymmetry=0.05,
                   drop_rate=0.002, fidget=True, soft_impact_share=0.25)
_REALISM_OFF = dict(noise=False, gyro_bias=False, mounting="canonical", clipping=False, asymmetry=0.0,
                    drop_rate=0.0, fidget=False, soft_impact_share=0.0)


@dataclass
class SimConfig:
    """Realism switches and session layout of :func:`gaitmon.sim.simulate_session`.

    The defaults give a clean-but-not-ideal six-rep session at 500 Hz. Switches that only add
    sensor imperfections (noise, bias, mounting, clipping, drop_rate, fidget, soft_impact_share)
    never change the ground truth: the same seed and scenario give the same events and steps
    whatever they are set to, and whatever the sample rate.

    Parameters
    ----------
    sample_rate_hz : float
        Output rate of each sensor, Hz. 104–1000 Hz is the supported range for real sensors
        (anything from 50 to 2000 Hz is accepted, e.g. 100 Hz for quick tests).
    n_reps : int
        Number of sprint reps.
    recovery_s : float
        Walking recovery after each rep, s (at least four walking steps are always made). A few
        seconds of standing follow before the next start.
    initial_standing_s : float
        Standing (with fidget) before the first rep's start-line pause, s.
    noise : bool
        White Gaussian noise, gyro 0.03 rad/s rms and accelerometer 0.15 m/s² rms per axis
        (typical MEMS IMU noise densities at a few hundred Hz bandwidth).
    gyro_bias : bool
        Constant per-axis gyro bias, uniform in ±0.05 rad/s, plus a slow sinusoidal drift of at
        most 0.01 rad/s (period 10–30 min).
    mounting : {"canonical", "random"}
        ``"canonical"``: sensor frame = shank frame (x up the shank, y forward, z left).
        ``"random"``: per side, the axes are permuted and flipped (a proper rotation, one of 24) and
        then tilted by up to 20° about a random axis.
    clipping : bool
        Saturate gyro at ±``GYRO_FULL_SCALE_RAD_S`` and accelerometer at ±``ACC_FULL_SCALE_M_S2``
        per axis (±2000 °/s, ±16 g).
    asymmetry : float
        Fractional left/right difference: the right leg's swing peaks are ``(1 − asymmetry)`` times
        and its contact times ``(1 + asymmetry)`` times the left leg's.
    drop_rate : float
        Fraction of samples dropped, in runs of 1–5 consecutive samples (BLE packet losses),
        independently per side. Dropped samples are absent from the output.
    fidget : bool
        Standing phases contain postural sway and small weight shifts (|ω| < 1.5 rad/s, smooth, no
        gait pattern). Off: standing is perfectly still.
    clock_error_ppm : tuple of float
        Crystal error of the (left, right) sensor, parts per million: a sensor that believes it
        samples at ``sample_rate_hz`` really samples at ``sample_rate_hz · (1 + ppm·1e-6)`` Hz of
        true time, and its device clock runs fast by the same factor (one crystal drives both).
        Commodity BLE IMUs are within ±50 ppm; ±200 ppm is the acquisition layer's stress test.
    soft_impact_share : float
        Probability that the simulated athlete is a soft lander (soft surface, loose strap): no
        impact transient at all at initial contact, in the accelerometer or the gyro, so contact
        must be found from ω (:mod:`gaitmon.sim.athlete`). One draw per session, from the seed.
    """

    sample_rate_hz: float = 500.0
    n_reps: int = 6
    recovery_s: float = 20.0
    initial_standing_s: float = 5.0
    noise: bool = True
    gyro_bias: bool = True
    mounting: str = "canonical"
    clipping: bool = True
    asymmetry: float = 0.0
    drop_rate: float = 0.0
    fidget: bool = True
    clock_error_ppm: tuple[float, float] = (0.0, 0.0)
    soft_impact_share: float = 0.0

    def __post_init__(self):
        if not 50.0 <= float(self.sample_rate_hz) <= 2000.0:
            raise ValueError(f"sample_rate_hz must be within 50..2000 Hz, not {self.sample_rate_hz!r}")
        if int(self.n_reps) != self.n_reps or self.n_reps < 1:
            raise ValueError(f"n_reps must be a positive integer, not {self.n_reps!r}")
        if not self.recovery_s >= 0:
            raise ValueError(f"recovery_s must be ≥ 0, not {self.recovery_s!r}")
        if not self.initial_standing_s >= 0:
            raise ValueError(f"initial_standing_s must be ≥ 0, not {self.initial_standing_s!r}")
        if self.mounting not in MOUNTINGS:
            raise ValueError(f"mounting must be one of {MOUNTINGS}, not {self.mounting!r}")
        if not 0.0 <= self.asymmetry <= 0.3:
            raise ValueError(f"asymmetry must be within 0..0.3, not {self.asymmetry!r}")
        if len(self.clock_error_ppm) != 2 or not all(abs(p) <= 1000 for p in self.clock_error_ppm):
            raise ValueError(f"clock_error_ppm must be (left, right) within ±1000, not {self.clock_error_ppm!r}")
        if not 0.0 <= self.drop_rate <= 0.5:
            raise ValueError(f"drop_rate must be within 0..0.5, not {self.drop_rate!r}")
        if not 0.0 <= self.soft_impact_share <= 1.0:
            raise ValueError(f"soft_impact_share must be within 0..1, not {self.soft_impact_share!r}")

    @classmethod
    def realistic(cls, sample_rate_hz: float = 500.0, **overrides) -> "SimConfig":
        """All realism switches on: noise, bias, random mounting, clipping, 5 % asymmetry,
        0.2 % dropped samples, fidget, a 25 % chance of a soft lander (no impact). Keyword
        *overrides* replace any field."""
        fields = dict(sample_rate_hz=sample_rate_hz, **_REALISM_ON)
        fields.update(overrides)
        return cls(**fields)

    @classmethod
    def for_duration(cls, duration_s: float, sample_rate_hz: float = 500.0, recovery_s: float = 60.0,
                     **overrides) -> "SimConfig":
        """A config whose session lasts about *duration_s* seconds (within a few %), by choosing
        ``n_reps`` for the given walking *recovery_s* (one rep cycle ≈ ``recovery_s`` + 13 s).
        Keyword *overrides* replace any other field, e.g. ``SimConfig.for_duration(3600, 1000,
        mounting="random")`` for an hour at 1 kHz."""
        initial = overrides.get("initial_standing_s", cls.initial_standing_s)
        n_reps = max(1, int(round((duration_s - initial - 4.0) / (recovery_s + 13.1))))
        return cls(sample_rate_hz=sample_rate_hz, n_reps=n_reps, recovery_s=recovery_s, **overrides)

    @classmethod
    def ideal(cls, sample_rate_hz: float = 500.0, **overrides) -> "SimConfig":
        """All imperfections off (canonical mounting, no noise/bias/clipping/drops/fidget, never a
        soft lander): the signal is exactly the model, for contract tests."""
        fields = dict(sample_rate_hz=sample_rate_hz, **_REALISM_OFF)
        fields.update(overrides)
        return cls(**fields)
