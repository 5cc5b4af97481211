# smartpos: `make sim` runs the whole stack on this PC, `make test` runs every suite.
# Each target bootstraps .venv itself (fresh Debian/Ubuntu x86_64, Python 3.10-3.13).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?=
# make test spreads the test files over JOBS workers (pytest-xdist): a file runs whole on one
# worker, and the files that share one resource of the machine (the PC/SC reader) on the same
# one (tests/conftest.py).  The suite mostly waits on boards and hosts, so three workers fit
# two cores; JOBS=1 runs it in one process.
JOBS   ?= 3
PYTEST_ARGS ?= $(if $(filter 1,$(JOBS)),,-n $(JOBS) --dist loadfile)

.PHONY: all venv goosebit-venv sim test flash demo bench native native-arm fuzz clean

all: test

$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

# A stock goosebit (hawkBit DDI server, PyPI) in a virtualenv of its own, so that its
# dependencies never meet ours: tests/tms/test_goosebit_interop.py runs the terminal against it
# (and skips without it). .ci/run makes it.
GOOSEBIT_VENV := .venv-goosebit
GOOSEBIT_VERSION := 0.2.12
$(GOOSEBIT_VENV)/.installed-stamp: Makefile
	@test -x $(GOOSEBIT_VENV)/bin/python || $(PYTHON) -m venv $(GOOSEBIT_VENV)
	$(GOOSEBIT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'goosebit==$(GOOSEBIT_VERSION)'
	@touch $@

goosebit-venv: $(GOOSEBIT_VENV)/.installed-stamp

sim: $(STAMP)
	$(BIN)/smartpos sim

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

flash: $(STAMP)
	@test -n "$(PORT)" || { echo "usage: make flash PORT=/dev/ttyACM0 (or the virtual board's pty, or socket://127.0.0.1:PORT)"; exit 2; }
	$(BIN)/smartpos flash --port $(PORT)

demo: $(STAMP)
	$(BIN)/smartpos demo --all

# make bench's 32-bit heap figures run on MicroPython's WebAssembly port (npm, into build/mp-wasm;
# skipped with a note where npm is missing).
bench: $(STAMP)
	@$(BIN)/python -m smartpos.benches.port32 install
	$(BIN)/smartpos bench

clean:
	rm -rf build native/build

# native/: portable C99 core (TLV, DOL, DES/AES, MACs, PIN blocks, EMV keys, SHA, RSA, CRC, Luhn);
# builds and runs its C unit tests on the host.
CC ?= cc
NATIVE_CFLAGS := -std=c99 -Wall -Wextra -Werror -pedantic -Inative/include
NATIVE_SRC := native/src/posnative.c native/src/pn_crypto.c native/src/pn_rsa.c native/src/pn_qr.c
native:
	@mkdir -p native/build
	$(CC) $(NATIVE_CFLAGS) -O2 $(NATIVE_SRC) native/tests/test_core.c -o native/build/test_core
	native/build/test_core

# libFuzzer (ASan + UBSan) on the C core's entry points that take outside data: TLV, DOL, MACs,
# PIN blocks, RSA (clang + libclang-rt); FUZZ_SECONDS bounds each run.  New inputs go to
# native/build/fuzz-corpus-NAME; the committed seeds in native/fuzz/corpus/NAME are only read.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := tlv dol mac pinblock rsa
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p native/build/fuzz-corpus-$$t || exit 1; \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Inative/include \
	    $(NATIVE_SRC) native/fuzz/fuzz_$$t.c -o native/build/fuzz_$$t || exit 1; \
	  native/build/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=native/build/ native/build/fuzz-corpus-$$t native/fuzz/corpus/$$t || exit 1; \
	done

# Cortex-M4 build of the core (freestanding, size report) and its C unit tests on qemu mps2-an386 via semihosting.
ARM_CC := arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os
native-arm:
	@mkdir -p native/build/arm
	@for f in $(NATIVE_SRC); do $(ARM_CC) -std=c99 -ffreestanding -Wall -Wextra -Werror -Inative/include -c $$f -o native/build/arm/$$(basename $$f .c).o || exit 1; done
	arm-none-eabi-size native/build/arm/posnative.o native/build/arm/pn_crypto.o native/build/arm/pn_rsa.o native/build/arm/pn_qr.o
	$(ARM_CC) -std=c99 -Inative/include --specs=rdimon.specs -T native/arm/mps2_an386.ld \
	  native/arm/startup.c $(NATIVE_SRC) native/tests/test_core.c -o native/build/arm/test_core.elf
	qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none -icount shift=0 \
	  -semihosting-config enable=on,target=native -kernel native/build/arm/test_core.elf
	$(ARM_CC) -std=c99 -Inative/include --specs=rdimon.specs -T native/arm/mps2_an386.ld \
	  native/arm/startup.c $(NATIVE_SRC) native/arm/bench.c -o native/build/arm/bench.elf
	qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none -icount shift=0 \
	  -semihosting-config enable=on,target=native -kernel native/build/arm/bench.elf

# The board firmware with _posnative is built in a MicroPython source tree, as any user C
# module is: native/micropython/micropython.mk (or .cmake) and docs/native.md.
