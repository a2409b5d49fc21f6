"""Which event kernel runs: the compiled one when it is built, else the pure-Python twin.

``GAITMON_PURE_PYTHON=1`` forces the twin. :data:`BACKEND` says which one is loaded.
"""

from __future__ import annotations

import os

from gaitmon.core._twin import DetectorKernel as TwinKernel

if os.environ.get("GAITMON_PURE_PYTHON"):
    Kernel = TwinKernel
    BACKEND = "python (forced by GAITMON_PURE_PYTHON)"
else:
    try:
        from gaitmon.core._detector import DetectorKernel as Kernel
    except ImportError:  # a source checkout that was never built
        Kernel = TwinKernel
        BACKEND = "python (compiled core not built)"
    else:
        BACKEND = "compiled"
