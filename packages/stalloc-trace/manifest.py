# stalloc-trace: TraceRecorder, a heap that logs its calls to replay and plot them on the
# host. An extension package in micropython-lib's pattern: it require()s the core and
# adds its module into the same `stalloc` package.
metadata(
    description="A heap that records its calls, to replay and plot on the host",
    version="0.3.0",
    license="MIT",
)
add_library("stalloc", "..")  # this repository's packages/, where require() looks
require("stalloc", library="stalloc")
package("stalloc", files=["trace.py"], base_path="../../lib", opt=3)
