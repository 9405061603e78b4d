"""cffi build script for ``libcontainer._nsenter`` (API mode, compiled at install time).

The raw binding mirrors nsenter.h and nothing but ``libcontainer.system`` imports it
(the pyca/cryptography layering).
"""

from __future__ import annotations

import pathlib

from cffi import FFI

HERE = pathlib.Path(__file__).resolve().parent

ffibuilder = FFI()
ffibuilder.cdef((HERE / "nsenter.h").read_text())
ffibuilder.set_source(
    "libcontainer._nsenter",
    '#include "nsenter.h"\n' + (HERE / "nsenter.c").read_text().replace('#include "nsenter.h"', ""),
    include_dirs=[str(HERE)],
    extra_compile_args=["-O2", "-Wall", "-Wno-unused-function"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=False)
