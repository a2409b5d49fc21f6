"""The gait event: the currency between the core and everything downstream."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class GaitEvent:
    """One detected (or simulated ground-truth) gait event.

    Attributes
    ----------
    t : float
        Time of the event, s, on the session clock. MSW, an impact IC and the foot rules' events
        sit on a sample's time stamp; the shank's gyro TO and IC are interpolated between samples
        and shifted by the measured offsets (``docs/core.md``); simulated truth is continuous time.
    side : str
        ``"left"`` or ``"right"``.
    kind : str
        ``"TO"``, ``"MSW"`` or ``"IC"`` (see :mod:`gaitmon.consts`).
    value : float
        ``MSW``: the swing peak of the sagittal angular velocity, rad/s. ``TO`` and ``IC``: the
        sagittal angular velocity at the event (nearest sample), rad/s (informative only).
    rule : str
        Which rule found a detected event (:data:`gaitmon.consts.EVENT_RULES`): ``"impact"`` for an
        initial contact at an accelerometer impact, ``"gyro"`` for one placed on the angular
        velocity; empty for reference and simulated events.
    """

    t: float
    side: str
    kind: str
    value: float = float("nan")
    rule: str = ""
