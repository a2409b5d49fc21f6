"""Build the Cython kernels in ext/ as modules of the gaitmon package.

Everything declarative lives in pyproject.toml; this file exists only because setuptools needs
Python to declare compiled extensions. A failed compilation fails the install: the pure-Python
twin is a specification and a debugging aid, not a silent substitute for a broken toolchain.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension("gaitmon.core._detector", ["ext/detector.pyx"]),
    Extension("gaitmon.session._framing", ["ext/framing.pyx"]),
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3", "embedsignature": True},
    ),
)
