"""Build the compiled core: every ``src/barter/_core/*.pyx`` becomes one extension module.

Directives live here (STYLE.md): ``language_level=3, embedsignature=True``; ``cdivision`` stays off.
``BARTER_CYTHON_DEBUG=1`` turns bounds checks back on and adds line tracing and annotation.
"""
import os
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("BARTER_CYTHON_DEBUG") == "1"

directives = {"language_level": 3, "embedsignature": True}
macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
if DEBUG:
    directives.update(boundscheck=True, wraparound=True, linetrace=True)
    macros.append(("CYTHON_TRACE_NOGIL", "1"))

extensions = [
    Extension(
        f"barter._core.{pyx.stem}",
        [str(pyx)],
        include_dirs=[np.get_include()],
        define_macros=macros,
        extra_compile_args=["-O0", "-g"] if DEBUG else ["-O3"],
    )
    for pyx in sorted(Path("src/barter/_core").glob("*.pyx"))
]

setup(
    # force: a debug build must regenerate C even when it is newer than the .pyx
    ext_modules=cythonize(extensions, compiler_directives=directives, annotate=DEBUG, force=DEBUG),
)
