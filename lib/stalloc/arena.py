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
release(). Alignment is of addresses (a block's address is counted).

At the end of a scope, views handed out are dead: the allocator refuses further use, and
on CPython the views are released (use raises ValueError). On MicroPython, where views
can be repointed (_repoint.py), each block keeps a pool of `views` views made with it:
alloc() moves the block's next one onto its bytes instead of making a view, and the end
of the scope empties them (a view kept past its scope sees nothing). Past the pool, and
where views cannot be repointed, alloc() slices a fresh view, which a reference kept past
its scope still reads and writes.
"""

import struct

from ._base import IS_MPY, REACH, AllocError, addressof, load, release
from ._check import check_align, check_count
from ._typed import itemsize, typed_view
from .chain import System

_STRUCT_ERROR = getattr(struct, "error", ())  # MicroPython has no struct.error: catch nothing
# The view of every zero-byte value on MicroPython (it cannot be released there anyway);
# CPython gives each its own, released with the scope as every view.
_NOTHING = memoryview(bytearray(0)) if IS_MPY else None


class ArenaAllocator:
    """What `with arena.allocator() as a:` gives: allocation until the block ends.

    Each call is all or nothing: AllocError (past max_bytes, or the block allocator
    refuses), MemoryError (no room on the GC heap for a view, a block's pool or its
    record) or a bad argument leave the arena as it was, no bytes used, no block added.
    Outside its `with` block it refuses every call (ValueError).
    """

    # One per arena, its own context manager, reused: a scope allocates nothing (with
    # pooled views: alloc() neither). _arena: the arena while the scope is open, else None.

    def __init__(self, arena):
        self._home = arena
        self._arena = None

    def __enter__(self):
        arena = self._home
        if arena._open:
            raise RuntimeError("this arena already has an allocator open")
        arena._open = True
        self._arena = arena
        return self

    def __exit__(self, exc_type, exc, tb):
        self._arena = None
        self._home._reset()

    def _live(self):
        arena = self._arena
        if arena is None:
            raise ValueError(
                "arena allocator used outside its `with` block: use `with "
                "arena.allocator() as a:` and call a.alloc() inside the block"
            )
        return arena

    def alloc(self, nbytes, align=1):
        """A writable memoryview of nbytes uninitialised bytes at an address that is a
        multiple of `align` (bytes, a power of two).

        O(blocks); allocates nothing with a pooled view (MicroPython), else the view.
        nbytes 0 gives an empty view and uses no bytes. AllocError past max_bytes or when
        the block allocator refuses; TypeError / ValueError for nbytes < 0 or a bad
        alignment; ValueError outside the allocator's `with` block.
        """
        check_count(nbytes, "nbytes", 0)
        check_align(align)
        arena = self._live()
        if not nbytes:
            return arena._dressed(0, 1, None, None)
        return arena._carve(nbytes, align)

    def put(self, fmt, *values):
        """Pack values with struct format `fmt` into the arena; return their view.

        light_arena's copy-in allocation. 8-byte aligned; O(blocks); allocates the view
        as alloc() does. A format of no bytes ("") gives an empty view. The values are
        checked as the runtime's struct checks them (TypeError for a wrong type; CPython
        also refuses an out-of-range value or a wrong count with ValueError, MicroPython
        truncates) and no byte is used when they are refused; AllocError as alloc().
        """
        return self._live()._dressed(_calcsize(fmt), 8, fmt, values)

    def array(self, typecode, n):
        """A typed view of n uninitialised items of an `array` typecode, aligned to the
        item size.

        O(blocks); allocates the typed view. n 0 gives an empty one. ValueError for an
        unknown typecode or n < 0, TypeError for a non-int n; AllocError as alloc().
        """
        size = itemsize(typecode)
        check_count(n, "n", 0)
        return self._live()._dressed(n * size, size, typecode, None)


def _struct_error(e):
    # CPython's struct.error is neither a TypeError nor a ValueError: it becomes one.
    text = str(e)
    return (TypeError if " not a" in text or "bytes object" in text else ValueError)(text)


def _calcsize(fmt):
    try:
        return struct.calcsize(fmt)
    except _STRUCT_ERROR as e:
        raise _struct_error(e) from None


class MemoryArena:
    """Blocks of block_size bytes, bump-allocated inside allocator() scopes, reset on exit.

    block_size: bytes per block (the first is allocated now). max_bytes: ceiling on the
    bytes of all blocks (None: none). allocator: where blocks come from (System()).
    views: pooled views per block (MicroPython; see above), made with the block: one
    memoryview object each (16 bytes, 32 on a 64-bit port).
    """

    def __init__(self, block_size, max_bytes=None, allocator=None, views=8):
        check_count(block_size, "block_size")
        check_count(views, "views", 0)
        if block_size >= REACH:
            raise ValueError("block_size: a 32-bit MicroPython's views reach %d bytes" % REACH)
        if max_bytes is not None:
            check_count(max_bytes, "max_bytes")
            if max_bytes < block_size:
                raise ValueError("max_bytes (%d) is below block_size" % max_bytes)
        self.block_size = block_size
        self.max_bytes = max_bytes
        self._allocator = System() if allocator is None else allocator
        self._move = None  # repoints the pooled views (None: every view is fresh)
        if IS_MPY and views:
            rp = load("_repoint")
            if rp.OK:
                self._move = rp.mover()
        self._views = views
        # [view, bytes used, pooled views used, pooled views, the block's offset in
        # their buffer, where the allocation being made starts, its address's low bits
        # (below REACH)], in creation order
        self._blocks = []
        self._held = 0
        self._used = 0
        self._open = False
        self._handed = []  # views of the open scope, released at its end (CPython)
        self.peak = 0  # most bytes used in one scope
        self._scope = ArenaAllocator(self)
        self._add_block(block_size)

    def allocator(self):
        """`with arena.allocator() as a:` allocation for the block; reset on exit.

        Allocates nothing: the arena hands out the same allocator object every time,
        which refuses use outside its `with` block (ValueError). RuntimeError on entering
        it while a scope is already open.
        """
        return self._scope

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
        for block in self._blocks:
            self._allocator.free(block[0])
        self._blocks = []
        self._held = 0

    def _add_block(self, size, align=8):
        # A new block at the end, all or nothing: what can fail comes first (the block,
        # its pool of views, its record, a longer list), and a block already had goes
        # back to its allocator if a later step fails.
        if size >= REACH:
            raise AllocError("arena: a %d-byte block is past a view's reach here" % size)
        if self.max_bytes is not None and self._held + size > self.max_bytes:
            raise AllocError(
                "arena: a %d-byte block would pass max_bytes %d" % (size, self.max_bytes)
            )
        held = self._held + size
        block = self._allocator.alloc(size, max(8, align))
        try:
            low = addressof(block) & (REACH - 1)  # alignment is of addresses, not offsets
            pool = None
            base = 0
            if self._move is not None:
                rp = load("_repoint")
                base = rp.offset(block)
                if base + size <= rp.LIMIT:  # else offsets do not fit a view's word
                    pool = [memoryview(block)[0:0] for _ in range(self._views)]
            self._blocks.append([block, 0, 0, pool, base, 0, low])
        except MemoryError:
            self._allocator.free(block)
            raise
        self._held = held

    def _carve(self, nbytes, align):
        # alloc(): nbytes at `align` in the first block with room (a new one if none has).
        # Its frames stay within MicroPython's 11 words of state (a bigger one comes from
        # the GC heap on every call): finding room, the view and taking the bytes are
        # apart. All or nothing: the view is had before the bytes are taken.
        block = self._fit(nbytes, align)
        if block is None:
            return self._carve_new(nbytes, align, None, None)
        view = self._view_in(block, nbytes)
        self._take(block, nbytes, view, None)
        return view

    def _dressed(self, nbytes, align, what, values):
        # put() (what: a struct format, values) and array() (what: a typecode): the bytes
        # packed, or seen as typed items, before they are taken; if that fails, nothing
        # is taken (a pooled view goes back to the pool). nbytes 0 (also alloc(0), what
        # None): an empty view in no block, as the stack's zero-byte frames.
        check_count(nbytes, "nbytes", 0)
        if nbytes:
            block = self._fit(nbytes, align)
            if block is None:
                return self._carve_new(nbytes, align, what, values)
            taken = block[2]
            view = self._view_in(block, nbytes)
        else:
            block = None
            view = memoryview(bytearray(0)) if _NOTHING is None else _NOTHING
        typed = None
        try:
            if what is None:
                pass
            elif values is None:
                typed = typed_view(view, what)
            else:
                struct.pack_into(what, view, 0, *values)
            self._take(block, nbytes, view, typed)
        except BaseException as e:
            if block is not None:
                block[2] = taken
            if type(e) is _STRUCT_ERROR:
                raise _struct_error(e) from None
            raise
        return view if typed is None else typed

    def _carve_new(self, nbytes, align, what, values):
        # No block has room: a new one, which goes again if the allocation in it fails. Its
        # allocator may align it to 8 bytes only: room for the padding a bigger align needs.
        self._add_block(max(self.block_size, nbytes + max(align - 8, 0)), align)
        try:
            if self._fit(nbytes, align) is None:  # never again: that would add blocks forever
                raise AllocError("arena: the allocator's block is not %d-aligned" % align)
            if what is None:
                return self._carve(nbytes, align)
            return self._dressed(nbytes, align, what, values)
        except BaseException:
            block = self._blocks[-1]
            held = self._held - len(block[0])
            self._allocator.free(block[0])
            self._blocks.pop()
            self._held = held
            raise

    def _fit(self, nbytes, align):
        # The first block with room for nbytes at `align`, where they start in its
        # block[5]; or None.
        blocks = self._blocks
        k = 0
        while k < len(blocks):
            block = blocks[k]
            start = ((block[6] + block[1] + align - 1) & -align) - block[6]
            if start + nbytes <= len(block[0]):
                block[5] = start
                return block
            k += 1
        return None

    def _view_in(self, block, nbytes):
        # The view of nbytes at block[5]: the block's next pooled view moved there, and
        # taken (pools exist on MicroPython only, where nothing after this can fail), or a
        # fresh slice.
        pool = block[3]
        if pool is not None and block[2] < len(pool):
            view = pool[block[2]]
            self._move(view, block[4] + block[5], nbytes)
            block[2] += 1
            return view
        return block[0][block[5] : block[5] + nbytes]

    def _take(self, block, nbytes, view, typed):
        # The bytes at block[5] taken: the values first (on CPython making an int can
        # fail), then the views the scope's end releases (every view on CPython, typed
        # views everywhere), all or none, then the stores. No block: a zero-byte value,
        # only its views.
        if block is None:
            end = used = 0
        else:
            end = block[5] + nbytes
            used = self._used + end - block[1]
        if typed is None:
            if not IS_MPY:
                self._handed.append(view)
        elif IS_MPY:
            self._handed.append(typed)
        else:
            self._handed.extend((view, typed))
        if block is not None:
            block[1] = end
            self._used = used
            if used > self.peak:
                self.peak = used

    def _reset(self):
        # The scope ended: the blocks are empty and the arena is closed first, then the
        # scope's views are retired. Nothing here allocates on MicroPython (and index
        # loops: on CPython an iterator is an object to make). Emptying the pooled views
        # is apart, for the 11 words.
        blocks = self._blocks
        k = 0
        while k < len(blocks):
            block = blocks[k]
            block[1] = 0
            if block[2]:
                self._empty(block)
            k += 1
        self._used = 0
        self._open = False
        handed = self._handed
        k = len(handed)
        while k:
            k -= 1
            view = handed[k]
            if type(view) is memoryview:
                release(view)  # CPython only; MicroPython cannot release a memoryview
            else:
                view.release()  # typed views (MicroPython)
        if handed:
            del handed[:]  # (not pop() or clear(): a list they shrink can be moved: allocated)

    def _empty(self, block):
        # The block's pooled views handed out in the scope: a stale reference sees nothing.
        k = block[2]
        block[2] = 0
        while k:
            k -= 1
            self._move(block[3][k], block[4], 0)

    def __repr__(self):
        return "<MemoryArena %d blocks, %d bytes, used %d>" % (
            len(self._blocks),
            self._held,
            self.used,
        )


_READY = True  # see _base.load()
