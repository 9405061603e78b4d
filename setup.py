"""Builds the cffi extension ``libcontainer._nsenter`` from ``nsenter/``.

Everything else about the package lives in pyproject.toml; setuptools still needs a
setup() call to hear about ``cffi_modules``. pip and ``python -m build`` fetch the build
requirements themselves; a direct ``python setup.py build_ext --inplace`` uses the
installed setuptools, hence the check below.
"""

import sys

import setuptools
from setuptools import setup

if int(setuptools.__version__.split(".")[0]) < 77:
    # pyproject.toml's SPDX `license` string needs it; older ones fail with a schema error.
    sys.exit(
        f"setuptools {setuptools.__version__} is too old to build pylibcontainer (needs 77 or "
        "newer): `python -m pip install -U 'setuptools>=77'`, or run `make setup`, which "
        "builds in a virtual environment (.venv)"
    )

setup(cffi_modules=["nsenter/build.py:ffibuilder"])
