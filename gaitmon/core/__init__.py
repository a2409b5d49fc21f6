"""The streaming step core: per-leg gait-event detection on a live stream.

``StepDetector`` is fed blocks of samples of any size (time stamps, sensor-frame samples and the
sagittal axis, projected inside the kernel's loop) and returns the gait events it has confirmed so
far. The work is done by a compiled Cython kernel (``ext/detector.pyx``) when it is built, else by
its pure-Python twin (``gaitmon/core/_twin.py``, the executable specification). ``GAITMON_PURE_PYTHON=1`` forces the
twin. :data:`BACKEND` says which one is loaded.
"""

from __future__ import annotations

from gaitmon.core._backend import BACKEND as BACKEND
from gaitmon.core._backend import Kernel as Kernel
from gaitmon.core._params import DetectorParams as DetectorParams
from gaitmon.core._twin import DetectorKernel as TwinKernel
from gaitmon.core.detector import StepDetector as StepDetector

__all__ = ["BACKEND", "DetectorParams", "Kernel", "StepDetector", "TwinKernel"]
