# Build glue kept to what pyproject.toml cannot say: the cffi extension `posnative._native`
# (the C core in native/) is built by native/build_ffi.py on every pip install / make venv.
from setuptools import setup

setup(cffi_modules=["native/build_ffi.py:ffibuilder"])
