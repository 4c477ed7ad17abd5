# stalloc-arena: MemoryArena, an arena whose allocator resets at the end of each scope.
# An extension package in micropython-lib's pattern: it require()s the core and adds its
# module into the same `stalloc` package.
metadata(
    description="An arena for per-scope temporaries, reset at the end of each scope",
    version="0.3.0",
    license="MIT",
)
add_library("stalloc", "..")  # this repository's packages/, where require() looks
require("stalloc", library="stalloc")
package("stalloc", files=["arena.py"], base_path="../../lib", opt=3)
