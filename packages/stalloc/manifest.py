# stalloc, the core package: the block heap (Stalloc, SyncStalloc, UnsafeStalloc), its
# fallback chain (AllocChain, System) and its diagnostics. Every extension package in
# packages/ require()s it. Freeze it from a board manifest with
#   add_library("stalloc", "<this repository>/packages")
#   require("stalloc", library="stalloc")
# or everything with the root manifest.py.
metadata(
    description="Fixed-budget memory: a block heap with a fallback chain, after stalloc",
    version="0.3.0",
    license="MIT",
)
package(
    "stalloc",
    files=[
        "__init__.py",
        "_advice.py",
        "_base.py",
        "_check.py",
        "_lock.py",
        "_noalloc.py",
        "_repoint.py",
        "_repoint_native.py",
        "_scope.py",
        "_slow.py",
        "_typed.py",
        "_views.py",
        "chain.py",
        "diag.py",
        "heap.py",
        "heap_native.py",
        "sync.py",
        "sync_native.py",
    ],
    base_path="../../lib",
    opt=3,
)
