# stalloc-irq: IrqStalloc, one heap shared by the main program and hard interrupt
# handlers, for MicroPython boards (machine.disable_irq). An extension package in
# micropython-lib's pattern: it require()s the core and adds its module into the same
# `stalloc` package.
metadata(
    description="A block heap shared with hard interrupt handlers",
    version="0.3.0",
    license="MIT",
)
add_library("stalloc", "..")  # this repository's packages/, where require() looks
require("stalloc", library="stalloc")
package("stalloc", files=["irq.py"], base_path="../../ports/micropython", opt=3)
