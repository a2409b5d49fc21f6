"""The gait event: the currency between the core and everything downstream."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class GaitEvent:
    """One detected (or simulated ground-truth) gait event.

    Attributes
    ----------
    t : float
        Time of the event, s, on the session clock. For detected events this is the time stamp of
        a sample (sample-accurate); for simulated truth it is continuous time.
    side : str
        ``"left"`` or ``"right"``.
    kind : str
        ``"TO"``, ``"MSW"`` or ``"IC"`` (see :mod:`gaitmon.consts`).
    value : float
        ``MSW``: the swing peak of the sagittal angular velocity, rad/s. ``TO`` and ``IC``: the
        sagittal angular velocity at the event, rad/s (informative only).
    """

    t: float
    side: str
    kind: str
    value: float = float("nan")
