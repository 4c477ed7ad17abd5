# Frozen manifest: MicroPython firmware for rp2-pico2 (RPI_PICO2) with stalloc built in.
#
# From the root of this repository (FROZEN_MANIFEST must be an absolute path):
#   make -C <micropython>/ports/rp2 BOARD=RPI_PICO2 submodules
#   make -C <micropython>/ports/rp2 BOARD=RPI_PICO2 \
#       FROZEN_MANIFEST=$(pwd)/boards/rp2-pico2/manifest.py
#
# First the port's default manifest, so the board keeps its own frozen modules (a board
# with its own manifest.py, e.g. a WiFi variant, wants "$(BOARD_DIR)/manifest.py" here),
# then this repository's root manifest.py: the core package and every extension package
# (packages/*/manifest.py, stalloc.irq included), -O3. Frozen code is compiled with the
# port's mpy-cross -march, which the native twins (*_native.py) need.
include("$(PORT_DIR)/boards/manifest.py")
include("../../manifest.py")
