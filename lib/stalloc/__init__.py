"""stalloc: fixed-budget memory for MicroPython and CPython.

- heap.py, chain.py: a block heap with a fallback chain (after the Rust crate stalloc);
- stack.py: a per-thread second stack of scoped frames (second-stack, second_stack2);
- alloca.py: alloca-style scoped buffers on that stack (stackalloc);
- arena.py: an arena reset at the end of each scope (light_arena).

Every allocator hands out memoryviews and raises AllocError, a MemoryError, when it is
out of memory.
"""

from ._allocator import Allocator, AllocError
from .alloca import (
    alloca,
    alloca_zeroed,
    stackalloc,
    stackalloc_uninit,
    stackalloc_with,
    stackalloc_with_iter,
)
from .arena import MemoryArena
from .chain import AllocChain, System
from .heap import HeapStats, Stalloc, SyncStalloc, UnsafeStalloc
from .stack import (
    Stack,
    StackVec,
    buffer,
    buffered,
    default_stack,
    frame,
    set_default_stack,
    stack_vec,
    uninit,
    uninit_slice,
    with_stack_vec,
)

__version__ = "0.2.0"

__all__ = [
    "AllocChain",
    "AllocError",
    "Allocator",
    "HeapStats",
    "MemoryArena",
    "Stack",
    "StackVec",
    "Stalloc",
    "SyncStalloc",
    "System",
    "UnsafeStalloc",
    "alloca",
    "alloca_zeroed",
    "buffer",
    "buffered",
    "default_stack",
    "frame",
    "set_default_stack",
    "stack_vec",
    "stackalloc",
    "stackalloc_uninit",
    "stackalloc_with",
    "stackalloc_with_iter",
    "uninit",
    "uninit_slice",
    "with_stack_vec",
]
