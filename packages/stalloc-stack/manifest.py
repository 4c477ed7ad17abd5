# stalloc-stack: the second stack (Stack, buffer, uninit, frame, stack vecs), the
# stackalloc family (alloca, stackalloc, ...) and TaskStacks (a stack per asyncio task).
# An extension package in micropython-lib's pattern: it require()s the core and adds its
# modules into the same `stalloc` package.
metadata(
    description="A second stack of scoped frames, and alloca-style buffers on it",
    version="0.3.0",
    license="MIT",
)
add_library("stalloc", "..")  # this repository's packages/, where require() looks
require("stalloc", library="stalloc")
package(
    "stalloc",
    files=["stack.py", "stack_native.py", "_stackx.py", "_alloca.py", "tasks.py"],
    base_path="../../lib",
    opt=3,
)
