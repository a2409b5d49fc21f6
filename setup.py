"""Build the Cython kernels in ext/ as modules of the gaitmon package.

Everything declarative lives in pyproject.toml; this file exists only because setuptools needs
Python to declare compiled extensions. A failed compilation fails the install: the pure-Python
twin is a specification and a debugging aid, not a silent substitute for a broken toolchain.
"""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

# The event kernel projects samples (ω = gyro · axis, |a|) and must round as numpy does, bit for bit:
# no fused multiply-add contraction (GCC and clang contract by default where the target has FMA).
# The clock fit's kernel must equal its twin's arithmetic in the same way.
NO_FMA = [] if sys.platform == "win32" else ["-ffp-contract=off"]

extensions = [
    Extension("gaitmon.core._detector", ["ext/detector.pyx"], extra_compile_args=NO_FMA),
    Extension("gaitmon.session._framing", ["ext/framing.pyx"]),
    Extension("gaitmon.io._csvblock", ["ext/csvblock.pyx"]),
    Extension("gaitmon.stream._clockfit", ["ext/clockfit.pyx"], extra_compile_args=NO_FMA),
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3", "embedsignature": True},
    ),
)
