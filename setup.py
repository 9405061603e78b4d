"""Builds the cffi extension ``libcontainer._nsenter`` from ``nsenter/``.

Everything else about the package lives in pyproject.toml; setuptools still needs a
setup() call to hear about ``cffi_modules``.
"""

from setuptools import setup

setup(cffi_modules=["nsenter/build.py:ffibuilder"])
