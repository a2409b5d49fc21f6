"""Names, units and frames shared by every stage of gaitmon.

Units
-----
SI everywhere inside gaitmon: accelerations in m/s² (specific force, as an accelerometer reads it:
a sensor at rest reads +9.81 m/s² along the axis pointing up), angular velocities in rad/s, times
in seconds (float64) on one clock per session.

Sample columns
--------------
A block of samples is ``t[n]`` (float64, s) plus ``x[n, 6]`` with the columns of
:data:`SAMPLE_COLUMNS`: ``ax, ay, az`` (m/s²) then ``gx, gy, gz`` (rad/s), in the *sensor* frame,
i.e. as the sensor is mounted. Nothing upstream of :mod:`gaitmon.stream.orientation` assumes a mounting.

The shank frame (canonical mounting)
------------------------------------
The simulator's canonical sensor frame on either shank, with the athlete standing:

- ``x`` points up along the shank (proximal),
- ``y`` points forward (anterior),
- ``z = x × y`` points to the athlete's left.

The *sagittal angular velocity* ``ω`` that the event detector works on is the rotation about the
medio-lateral axis, signed so that **the foot swinging forward is positive**: the large mid-swing
peak is positive, stance (the knee travelling forward over a planted foot) is negative. In the
canonical frame ``ω = −gz``. A real sensor may be strapped on with its axes permuted, flipped or
tilted; :mod:`gaitmon.stream.orientation` finds the axis and the sign from the data, so the detector only
ever sees ``ω``.

Gait events
-----------
- ``TO``  toe-off: end of a contact (the foot leaves the ground).
- ``MSW`` mid-swing: the peak of ``ω`` during swing; its value is the peak (rad/s), the
  swing-side output of that swing.
- ``IC``  initial contact: start of a contact (the foot strikes the ground).
"""

from __future__ import annotations

SAMPLE_COLUMNS: tuple[str, ...] = ("ax", "ay", "az", "gx", "gy", "gz")
ACC_COLUMNS = slice(0, 3)
GYRO_COLUMNS = slice(3, 6)

SIDES: tuple[str, ...] = ("left", "right")

EVENT_KINDS: tuple[str, ...] = ("TO", "MSW", "IC")

#: Which rule of the step core placed a detected event (the kernel's rule codes index this).
EVENT_RULES: tuple[str, ...] = ("gyro", "impact")

PLACEMENTS: tuple[str, ...] = ("shank", "foot")

STANDARD_GRAVITY = 9.80665  # m/s²

#: Full-scale ranges typical of commodity IMUs, used by the simulator's clipping switch.
GYRO_FULL_SCALE_RAD_S = 2000.0 * 3.141592653589793 / 180.0  # ±2000 °/s
ACC_FULL_SCALE_M_S2 = 16.0 * STANDARD_GRAVITY  # ±16 g
