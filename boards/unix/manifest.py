# Frozen manifest: the MicroPython unix port with stalloc built in.
#
# From the root of this repository (FROZEN_MANIFEST must be an absolute path):
#   make -C <micropython>/ports/unix submodules
#   make -C <micropython>/ports/unix FROZEN_MANIFEST=$(pwd)/boards/unix/manifest.py
#
# The unix port has variants, not boards: this starts like its standard variant
# (variants/standard/manifest.py: the port's manifest plus asyncio), then adds this
# repository's root manifest.py: the core package and every extension package
# (packages/*/manifest.py, stalloc.irq included). Frozen native twins need mpy-cross
# -march: if the build stops with "invalid arch", add MPY_CROSS_FLAGS=-march=x64 (the
# host's arch).
include("$(PORT_DIR)/variants/manifest.py")
include("$(MPY_DIR)/extmod/asyncio")
include("../../manifest.py")
