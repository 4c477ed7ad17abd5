# stalloc for MicroPython boards: the core package plus stalloc/irq.py (IrqStalloc, the
# heap a hard interrupt handler can share), as an extension package in micropython-lib's
# pattern (cf. lora-sx126x: the core, then files added into the same package).
#
# From a board manifest, in place of (or after) "../../manifest.py":
#   include("../../ports/micropython/manifest.py")
# or directly:
#   make -C <micropython>/ports/rp2 BOARD=RPI_PICO \
#       FROZEN_MANIFEST=$(pwd)/ports/micropython/manifest.py
# (a FROZEN_MANIFEST replaces the port's default one: a board manifest keeps it).
#
# No metadata() here: include() shares the including manifest's metadata, the root
# manifest sets it, and a second metadata() call would be an error. require() cannot name
# the core either: it searches micropython-lib, where stalloc is not.
include("../../manifest.py")
package("stalloc", files=["irq.py"])
