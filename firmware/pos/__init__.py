# smartpos firmware package (MicroPython). See docs/architecture.md.
VERSION = "0.1.0"
