# Freeze all of stalloc into a MicroPython firmware: the core and every extension package
# (packages/*/manifest.py), each compiled with the port's mpy-cross flags (its -march, which
# the native twins need) and -O3. Frozen bytecode runs from flash: importing costs RAM for
# the objects only. Use it from a board manifest (see boards/<name>/manifest.py), or:
#   make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=$(pwd)/manifest.py
# To freeze only some packages, require() them as below in a manifest of your own.
metadata(
    description="Fixed-budget memory for MicroPython and CPython: a block heap with a "
    "fallback chain, a second stack and an arena",
    version="0.3.0",
    license="MIT",
)
add_library("stalloc", "packages")
require("stalloc", library="stalloc")
require("stalloc-stack", library="stalloc")
require("stalloc-arena", library="stalloc")
require("stalloc-trace", library="stalloc")
require("stalloc-irq", library="stalloc")
