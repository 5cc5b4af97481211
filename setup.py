# Build glue kept to what pyproject.toml cannot say: the cffi extension
# `posnative` (native/) is added by native/build_ffi.py when present.
from setuptools import setup

setup()
