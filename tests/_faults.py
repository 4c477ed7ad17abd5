# Fault injection for the portable tests: a call runs with the runtime's allocations
# failing at every point in turn, and must be all-or-nothing each time (SQLite's malloc
# tests, for a runtime whose MemoryError can strike inside any call).
#
#   runtime                how an allocation is made to fail
#   CPython                _testcapi.set_nomemory(k, k + 1): exactly the (k+1)-th allocation
#                          of the interpreter fails (a view, a list, a dict slot, an int, a
#                          ctypes object), k = 0, 1, 2, ... until the call runs through
#                          3 times in a row (a call that absorbs one failure may still
#                          allocate after it). One, not every one from k on: on CPython the
#                          undo paths themselves make ints and call functions, which a
#                          CPython out of memory for good cannot run
#   MicroPython, unix      the GC heap filled with ballast so that X bytes stay free,
#                          X = 0, one GC block, two, ... 32, then 16 levels per doubling,
#                          until the call succeeds 3 times in a row: every allocation past
#                          X fails (after a collection, as on a board), undo paths
#                          included, which allocate nothing there
#   MicroPython, 32-bit    heap_lock() (X = 0): the WebAssembly port grows its GC heap on
#   WebAssembly            demand and frees nothing inside a running call, so it cannot be
#                          filled to a level
#
# After each failure: the error is a MemoryError (AllocError is one), the subject's whole
# state is what it was, its own check passes, and the same call then works. sweep() counts
# the failures it saw: a call that never failed under injection tested nothing.

import gc
import sys

from _util import IS_MPY

WASM = IS_MPY and sys.platform == "webassembly"
BLOCK = 4 * (8 if sys.maxsize > 1 << 32 else 4)  # bytes per GC block (MicroPython)
_EMPTY = b""

if IS_MPY:
    import micropython

    _lock = micropython.heap_lock
    _unlock = micropython.heap_unlock
else:
    try:
        import _testcapi

        _nomemory = _testcapi.set_nomemory
        _restore = _testcapi.remove_mem_hooks
    except (ImportError, AttributeError):  # a CPython built without its test modules
        _nomemory = None


class Ballast:
    """Fills the MicroPython GC heap so that exactly x bytes stay free (in GC blocks)."""

    def __init__(self):
        self.keep = [None] * 512
        self.n = 0

    def fill(self, x):
        # Down to about x + 8 blocks: top_up() takes the rest exactly.
        x += 8 * BLOCK
        self.release()
        _scrub(24)  # stale words on the C stack would keep garbage alive past a collect
        keep = self.keep
        n = 0
        size = 1 << 30
        for _ in range(8):  # measured, then filled on an estimate, then measured again
            gc.collect()  # a bytearray that failed left its object behind
            free = gc.mem_free()
            if free <= x:
                break
            while free > x and n < len(keep):
                want = free - x - BLOCK  # a bytearray's object takes a block of its own
                try:
                    if want >= BLOCK and size >= BLOCK:
                        if size > want:
                            size = want
                        keep[n] = bytearray(size)
                        free -= BLOCK + (size + BLOCK - 1) // BLOCK * BLOCK
                    else:
                        keep[n] = memoryview(_EMPTY)  # one GC block
                        free -= BLOCK
                    n += 1
                except MemoryError:  # no piece that big left, or the estimate was off
                    if size < BLOCK:
                        break
                    size >>= 1
        self.n = n

    def top_up(self, x):
        # The last blocks, from the caller's frame: fill()'s own frame came from the GC
        # heap (more than 11 words) and is given back when fill() returns.
        gc.collect()
        self.n = _top(self.keep, self.n, x)

    def release(self):
        keep = self.keep
        for i in range(self.n):
            keep[i] = None
        self.n = 0


def _scrub(n):
    return _scrub(n - 1) + 1 if n else 0


def _top(keep, n, x):
    # A small frame (on the C stack): nothing of its own comes or goes.
    more = (gc.mem_free() - x) // BLOCK
    while more > 0:
        keep[n] = memoryview(_EMPTY)
        n += 1
        more -= 1
        if not more:
            more = (gc.mem_free() - x) // BLOCK
    return n


_ballast = Ballast() if IS_MPY and not WASM else None


def _level(k):
    # The free GC blocks of failure point k on the unix port: every level up to 32
    # blocks, then 16 levels per doubling (a call that takes kilobytes, an import, would
    # need a thousand levels of a few milliseconds each at one block a step).
    return k if k < 32 else int(32 * 1.0442738 ** (k - 32))


def attempt(case, s, k):
    """case.op(s) with allocation failure point k armed (see the top): (result, error).
    Nothing here allocates between arming and disarming but the call itself."""
    r = err = None
    if not IS_MPY:
        gc.disable()
        _nomemory(k, k + 1)
        try:
            r = case.op(s)
        except BaseException as e:
            err = e
        finally:
            _restore()
            gc.enable()
    elif WASM:
        _lock()
        try:
            r = case.op(s)
        except BaseException as e:
            err = e
        finally:
            _unlock()
    else:
        x = _level(k) * BLOCK
        _ballast.fill(x)
        try:
            _ballast.top_up(x)
            r = case.op(s)
        except BaseException as e:
            err = e
        _ballast.release()
    return r, err


def heap_state(h):
    """Everything a heap call may change but its high-water marks (the failed counter,
    and peak_used, which counts blocks a call held for a moment before it failed and
    gave them back: a moving realloc, a chain's move): the free list, the bytes of the
    allocated blocks, the views out (block, length, pool slot) and the views-missed
    counter. What free blocks hold past their run header is no one's."""
    inner = getattr(h, "_heap", h)
    # Block by block, in small pieces: a copy of the whole heap would need one free piece
    # that big, which a small board's GC heap, fragmented by the ballast, may not have.
    m = memoryview(inner._mem)
    B = inner.block_size
    L = inner.blocks
    first = bytearray(L)  # 1: a free run's first block (its header), 2: the rest of it
    for i, n in inner.free_runs():
        first[i] = 1
        for k in range(i + 1, i + n):
            first[k] = 2
    mem = [bytes(m[i * B : i * B + (4 if first[i] == 1 else B)]) for i in range(L) if first[i] < 2]
    mem.append(bytes(m[L * B : L * B + 6]))  # the trailer but the failed counter and peak
    mem.append(bytes(first))
    live = []
    vs = inner._vs
    if vs is not None:
        for k in range(len(vs)):
            b = inner._vt[4 + 3 * k]
            if b:
                live.append((b - 1, len(vs[k]), k))
    for i in inner._live:
        live.append((i, len(inner._live[i]), -1))
    live.sort()
    return (mem, inner._missed, live, h.stats().live_views)


class Case:
    """One call under fault injection. Subclasses define make(), op(), state(), done().

    make() -> a fresh subject, built normally. op(s): the call, under injection. state(s):
    everything the call may change, comparable with ==. done(s, r): after op returned r,
    release it and check that the subject is clean. check(s): after a failure, the
    subject's invariants hold and what was live before is intact (default: nothing more).
    cold(): make the call cold again (forget a lazily loaded module), or None.
    """

    cold = None

    def check(self, s):
        pass


def ensure_injection():
    """The CPython injector, or an AssertionError saying why it is missing (a missing
    injector is a failure, not a skip)."""
    if not IS_MPY:
        assert _nomemory is not None, "fault injection needs CPython's _testcapi module"


def sweep(case, limit=3000):
    """Run case.op at every failure point (see the top); return how many failed."""
    ensure_injection()
    failures = 0
    streak = 0
    k = 0
    while True:
        if case.cold is not None:
            case.cold()
        s = case.make()
        before = case.state(s)
        r, err = attempt(case, s, k)
        if err is None:
            case.done(s, r)
            streak += 1
            if streak >= 3 or WASM:
                return failures
        else:
            streak = 0
            failures += 1
            if not isinstance(err, MemoryError) and not _lost(err):
                raise AssertionError("k=%d: %r, not a MemoryError%s" % (k, err, _where(err)))
            after = case.state(s)
            if after != before:
                raise AssertionError(
                    "k=%d: %r, yet %s%s" % (k, err, _diff(before, after), _where(err))
                )
            case.check(s)
            case.done(s, case.op(s))  # the same call works once memory is back
            if WASM:
                return failures
        k += 1
        if k >= limit:
            raise AssertionError("still failing after %d failure points" % limit)


def _lost(err):
    # CPython 3.11 drops an exception on its way out of a frame when it cannot make the
    # frame object for its traceback, then raises this instead: the runtime's defect,
    # not the library's (whose state is still checked).
    return (
        not IS_MPY
        and type(err) is SystemError
        and str(err) == ("error return without exception set")
    )


def _where(err):
    # Where the error came from (CPython; MicroPython's tracebacks print only).
    if IS_MPY:
        return ""
    import traceback

    return "\n" + "".join(traceback.format_exception(type(err), err, err.__traceback__))


def _diff(before, after):
    # What changed, briefly: the items of a tuple or list that differ, bytes by offset.
    if isinstance(before, (tuple, list)) and isinstance(after, (tuple, list)):
        if len(before) == len(after):
            return "; ".join(
                "[%d] %s" % (i, _diff(before[i], after[i]))
                for i in range(len(before))
                if before[i] != after[i]
            )
    if isinstance(before, bytes) and isinstance(after, bytes) and len(before) == len(after):
        at = [i for i in range(len(before)) if before[i] != after[i]]
        return "bytes at %s: %s -> %s" % (
            at[:8],
            [before[i] for i in at[:8]],
            [after[i] for i in at[:8]],
        )
    return "%r -> %r" % (before, after)


def fails(case):
    """sweep(case), which must have seen at least one failure."""
    n = sweep(case)
    assert n >= 1, "the call never failed under injection: it tested nothing"
    return n


def repeats_without_growth(case, k, times=4):
    """MicroPython (unix): the call failing at point k again and again on one subject
    keeps no more GC memory each time. Elsewhere nothing to measure (CPython's
    containers are in state())."""
    if not IS_MPY or WASM:
        return
    s = case.make()
    for _ in range(times):
        attempt(case, s, k)
    gc.collect()
    before = gc.mem_alloc()
    for _ in range(times):
        attempt(case, s, k)
    gc.collect()
    grew = gc.mem_alloc() - before
    assert grew <= 0, "%d bytes kept by %d failed calls" % (grew, times)
    case.done(s, case.op(s))


def allocates_nothing(fn, s):
    """MicroPython, where it counts every allocation (micropython.mem_total(): the unix
    port): fn(s), warm, allocates nothing at all, not even a call frame that the GC heap
    lends and takes back (heap_lock() cannot see those: the VM then uses the C stack).
    True where there is nothing to count."""
    if not IS_MPY or not hasattr(micropython, "mem_total"):
        return True
    fn(s)
    before = micropython.mem_total()
    fn(s)
    return micropython.mem_total() == before


def locked(fn, s):
    """MicroPython: fn(s) with the GC heap locked; True if it ran through. The result is
    dropped (a warm zero-GC call must complete without the heap)."""
    ok = bytearray(1)
    _lock()
    try:
        fn(s)
        ok[0] = 1
    except MemoryError:
        pass
    finally:
        _unlock()
    return ok[0] == 1


def forget(*names):
    """Make lazily loaded stalloc modules cold again: drop them from sys.modules, and the
    names they added to the package and to classes (for the cold-path tests)."""
    import stalloc
    from stalloc._base import Allocator
    from stalloc.heap import Stalloc

    added = {
        "_slow": (Stalloc, ("realloc",)),
        "diag": (Stalloc, ("check", "stats", "free_runs", "map", "map_into")),
        "_scope": (Allocator, ("scoped", "_scope")),
        "chain": (Allocator, ("chain",)),
    }
    for name in names:
        sys.modules.pop("stalloc." + name, None)
        cls, attrs = added.get(name, (None, ()))
        for a in attrs:
            if a in cls.__dict__:
                delattr(cls, a)
        for words in stalloc._lines():
            if words[0] == name:
                for a in words[1:]:
                    stalloc.__dict__.pop(a, None)
