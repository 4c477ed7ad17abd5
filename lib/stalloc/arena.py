"""An arena for per-frame temporaries (after the Rust crate light_arena).

    arena = MemoryArena(16 * 1024)            # block size in bytes (light_arena took MiB)
    with arena.allocator() as a:              # one allocator at a time
        buf = a.alloc(300)                    # a writable memoryview
        rec = a.put("<HHf", 1, 2, 0.5)        # a struct packed into the arena
        xs = a.array("f", 64)                 # a typed view of 64 floats
    # everything is reset here; the blocks are kept for the next scope

Allocation bumps through the blocks in creation order and takes the first with room
(light_arena's first fit over blocks); a request no block can hold adds a block of
max(block_size, request) bytes, up to the optional max_bytes ceiling (AllocError past
it, nothing added). The blocks come from an allocator of the chain module (System by
default, a Stalloc to keep them inside a fixed heap) and are only given back by
release(). Alignment is relative to a block's start, which is at least 8-byte aligned.

At the end of a scope, views handed out are dead: the allocator refuses further use, and
on CPython the views are released (use raises ValueError). MicroPython cannot release a
memoryview: a view kept past its scope sees whatever the next scope writes there.
"""

import struct

from ._base import IS_MPY, AllocError, release
from ._check import check_align, check_count
from ._typed import itemsize, typed_view
from .chain import System


class ArenaAllocator:
    """What `with arena.allocator() as a:` gives: allocation until the block ends."""

    def __init__(self, arena):
        self._arena = arena

    def _live(self):
        arena = self._arena
        if arena is None:
            raise ValueError("this arena allocator's scope has ended")
        return arena

    def alloc(self, nbytes, align=1):
        """A writable memoryview of nbytes uninitialised bytes. O(blocks)."""
        check_count(nbytes, "nbytes")
        check_align(align)
        return self._live()._carve(nbytes, align)

    def put(self, fmt, *values):
        """Pack values with struct format `fmt` into the arena; return their view.

        light_arena's copy-in allocation. 8-byte aligned.
        """
        view = self.alloc(struct.calcsize(fmt), 8)
        struct.pack_into(fmt, view, 0, *values)
        return view

    def array(self, typecode, n):
        """A typed view of n uninitialised items of an `array` typecode."""
        size = itemsize(typecode)
        check_count(n, "n")
        view = typed_view(self.alloc(n * size, size), typecode)
        self._arena._handed.append(view)  # typed views die with the scope on both runtimes
        return view


class _Scope:
    def __init__(self, arena):
        self._arena = arena
        self._allocator = None

    def __enter__(self):
        arena = self._arena
        if arena._open:
            raise RuntimeError("this arena already has an allocator open")
        arena._open = True
        self._allocator = ArenaAllocator(arena)
        return self._allocator

    def __exit__(self, exc_type, exc, tb):
        self._allocator._arena = None
        self._arena._reset()


class MemoryArena:
    """Blocks of block_size bytes, bump-allocated inside allocator() scopes, reset on exit.

    block_size: bytes per block (the first is allocated now). max_bytes: ceiling on the
    bytes of all blocks (None: none). allocator: where blocks come from (System()).
    """

    def __init__(self, block_size, max_bytes=None, allocator=None):
        check_count(block_size, "block_size")
        if max_bytes is not None:
            check_count(max_bytes, "max_bytes")
            if max_bytes < block_size:
                raise ValueError("max_bytes (%d) is below block_size" % max_bytes)
        self.block_size = block_size
        self.max_bytes = max_bytes
        self._allocator = System() if allocator is None else allocator
        self._blocks = []  # [view, bytes used], in creation order
        self._held = 0
        self._used = 0
        self._open = False
        self._handed = []  # views of the open scope, released at its end (CPython)
        self.peak = 0  # most bytes used in one scope
        self._add_block(block_size)

    def allocator(self):
        """`with arena.allocator() as a:` allocation for the block; reset on exit.

        RuntimeError if a scope is already open.
        """
        return _Scope(self)

    @property
    def held(self):
        """Bytes of all blocks."""
        return self._held

    @property
    def used(self):
        """Bytes allocated in the open scope, padding included (0 outside one)."""
        return self._used

    @property
    def blocks(self):
        """Number of blocks."""
        return len(self._blocks)

    def release(self):
        """Give every block back to its allocator (outside a scope). The arena stays
        usable: the next allocation adds a block again."""
        if self._open:
            raise RuntimeError("release() inside an open allocator scope")
        for view, _ in self._blocks:
            self._allocator.free(view)
        self._blocks = []
        self._held = 0

    def _add_block(self, size, align=8):
        if self.max_bytes is not None and self._held + size > self.max_bytes:
            raise AllocError(
                "arena: a %d-byte block would pass max_bytes %d" % (size, self.max_bytes)
            )
        self._blocks.append([self._allocator.alloc(size, max(8, align)), 0])
        self._held += size

    def _carve(self, nbytes, align):
        for block in self._blocks:
            start = (block[1] + align - 1) & -align
            if start + nbytes <= len(block[0]):
                break
        else:
            # A new block starts at offset 0, aligned to `align`: no padding needed.
            self._add_block(max(self.block_size, nbytes), align)
            block = self._blocks[-1]
            start = 0
        self._used += start + nbytes - block[1]
        block[1] = start + nbytes
        view = block[0][start : start + nbytes]
        if not IS_MPY:
            self._handed.append(view)
        if self._used > self.peak:
            self.peak = self._used
        return view

    def _reset(self):
        for block in self._blocks:
            block[1] = 0
        self._used = 0
        for view in self._handed:
            if type(view) is memoryview:
                release(view)  # CPython only; MicroPython cannot release a memoryview
            else:
                view.release()  # typed views (MicroPython)
        self._handed = []
        self._open = False

    def __repr__(self):
        return "<MemoryArena %d blocks, %d bytes, used %d>" % (
            len(self._blocks),
            self._held,
            self.used,
        )


_READY = True  # see _base.load()
