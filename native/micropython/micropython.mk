# _posnative as a MicroPython user C module (make USER_C_MODULES=<smartpos>/native/micropython).
POSNATIVE_MOD_DIR := $(USERMOD_DIR)
POSNATIVE_ROOT := $(POSNATIVE_MOD_DIR)/..

SRC_USERMOD += $(POSNATIVE_MOD_DIR)/mod_posnative.c
SRC_USERMOD += $(POSNATIVE_ROOT)/src/posnative.c $(POSNATIVE_ROOT)/src/pn_crypto.c $(POSNATIVE_ROOT)/src/pn_rsa.c $(POSNATIVE_ROOT)/src/pn_qr.c
CFLAGS_USERMOD += -I$(POSNATIVE_ROOT)/include -std=gnu99
