# Freeze stalloc into a MicroPython firmware (docs/reference/manifest.rst).
#
# Use it from a board manifest (see boards/<name>/manifest.py), or directly:
#   make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=$(pwd)/manifest.py
# Frozen bytecode runs from flash: importing the package then costs a few KB of RAM
# instead of the whole compiled package. package() freezes every .py under lib/stalloc,
# compiled with the port's mpy-cross flags (its -march, which _viper.py's viper/native
# code needs).
metadata(
    description="Fixed-budget memory for MicroPython and CPython: a block heap with a "
    "fallback chain, a second stack and an arena",
    version="0.2.0",
    license="MIT",
)
package("stalloc", base_path="lib")
