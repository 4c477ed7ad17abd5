"""stalloc: fixed-budget memory for MicroPython and CPython.

A block heap with a fallback chain (this package's `heap` and `chain` modules), after
the Rust crate stalloc. Every allocator hands out memoryviews and raises AllocError, a
MemoryError, when it is out of memory.
"""

from ._allocator import Allocator, AllocError
from .chain import AllocChain, System
from .heap import HeapStats, Stalloc, SyncStalloc, UnsafeStalloc

__version__ = "0.1.0"

__all__ = [
    "AllocChain",
    "AllocError",
    "Allocator",
    "HeapStats",
    "Stalloc",
    "SyncStalloc",
    "System",
    "UnsafeStalloc",
]
