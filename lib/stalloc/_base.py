# The base every module of stalloc stands on: AllocError and the allocator protocol, and
# what differs between CPython and MicroPython (the rest of the package imports these
# names and never tests the runtime itself). The CPython side of the runtime differences
# is _cpython.py, the argument checks are _check.py, the stack's typed views and
# per-thread state _views.py, the locks _lock.py.
#
# An allocator hands out writable memoryviews:
#   alloc(nbytes, align=1) -> view      AllocError when it cannot
#   free(view)                          ValueError when the view is not its own
#   realloc(view, nbytes, align=1)      -> view, possibly moved; the old view is dead
#   owns(view) -> bool                  used by AllocChain to route free/realloc
# Anything with these four methods can sit in a chain.

IS_MPY = __import__("sys").implementation.name == "micropython"


# Addresses from what the runtime gives, tested over the boundaries (tests/test_address.py).
# MicroPython's id() is an object's address as a small int where one holds it, so on a
# port of W-bit words (py/obj.c, mp_obj_id): below 2**(W-2) the address; in
# [2**(W-2), 2**(W-1)) the address - 2**(W-1), negative (ESP32-C6 SRAM, 0x4080_0000 on a
# 32-bit port); above, the address as a big int (allocated per call). CPython: the address.
def from_id(i, top):
    """The address an id() `i` names; top = 2**(W-1) (MicroPython: sys.maxsize + 1)."""
    return i + top if i < 0 else i


def halves(a):
    """An address as its (low, high) u32 halves, the way the tables keep it."""
    return a & 0xFFFFFFFF, a >> 32


# How far a memoryview reaches into its buffer: a 32-bit MicroPython keeps 24 bits of
# offset (slicing past them raises OverflowError). Buffers the library slices stay below.
REACH = 1 << 24 if IS_MPY and __import__("sys").maxsize < 1 << 32 else 1 << 60

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


if IS_MPY:
    import uctypes
    from uctypes import addressof

    def view_address(view):
        """Address of a memoryview's first byte, or -1 for anything else. Never raises."""
        return addressof(view) if type(view) is memoryview else -1

    def at(raw, org, n):
        """n bytes of raw from org, as a bytearray whose views are sliced from there."""
        return raw if len(raw) == n else uctypes.bytearray_at(addressof(raw) + org, n)

    def u16_view(buf):
        """buf's bytes as u16 items (native byte order), sharing its memory. uctypes
        keeps a bare address: the caller keeps buf alive."""
        u = uctypes
        return u.struct(addressof(buf), {"w": (u.ARRAY | 0, u.UINT16 | len(buf) // 2)}).w

    # MicroPython cannot release a memoryview: release(view) does nothing there. A
    # builtin that takes one argument and allocates nothing costs no function object.
    release = len

else:  # CPython: ctypes, in a module a board never loads
    from ._cpython import addressof, at, release, u16_view, view_address  # noqa: F401


# True keeps the pure code where native twins could run: the tests' reference path
# (tools/upytest.py sets it for STALLOC_PURE=1). Set it before the first import of the
# heap or the stack; the library never reads the environment itself.
PURE = False


_modules = __import__("sys").modules
try:  # one lazy import at a time: a port's filesystem is not safe to search from two threads
    from _thread import allocate_lock

    _loading = allocate_lock()
except ImportError:  # no threads, nothing to serialize
    _loading = None


def load(name, native=False):
    """The submodule stalloc.<name>, imported on first use. Threads import one at a time
    (two imports searching the filesystem at once can fail, measured on the unix port),
    and a module another thread is importing outside load() is in sys.modules half made:
    wait until it is whole (every module of the package ends with `_READY = True`). One
    whose import failed is imported anew (_import).
    Native twins load unlocked, so only from a module's body (under the load() that
    imports that module: the lock is not reentrant), never at run time.

    native=True: a module of native twins, or None where they cannot run (CPython, no
    native emitter, an .mpy for another arch, or PURE set): the pure code runs then.
    """
    full = "stalloc." + name
    if native:
        if IS_MPY and not PURE:
            had = _ours()
            for retry in (1, 0):
                try:
                    return __import__(full, None, None, [name])
                except (ImportError, SyntaxError, ValueError, MemoryError) as e:
                    # No native emitter (SyntaxError), left out of a build for such a
                    # board (ImportError), an .mpy for another arch (ValueError), or no
                    # room for its machine code (a small heap, cut up: once more after a
                    # collection, then the pure code). What it left half made goes (the
                    # module importing it is not whole yet: it was there before, it stays).
                    _drop(had)
                    if not (retry and isinstance(e, MemoryError)):
                        break
                    __import__("gc").collect()
        return None
    m = _modules.get(full)
    if m is None or not hasattr(m, "_READY"):
        if _loading:
            _loading.acquire()
        try:
            if IS_MPY:
                __import__("gc").collect()  # fragments cost a small board its import
            m = _import(full, name)
        finally:
            if _loading:
                _loading.release()
        while not hasattr(m, "_READY"):
            pass  # the importing thread finishes it (a GIL is released as bytecode runs)
    return m


def _import(full, name):
    # __import__, repairing on MicroPython what an import that fails leaves behind: the
    # module, half made, in sys.modules (a first use that ran out of memory), or only
    # its name with no module (no room to make one), which the next import would hand
    # out as it is. CPython removes a failed import itself.
    if not IS_MPY:
        return __import__(full, None, None, [name])
    if not hasattr(_modules.get(full), "_READY"):
        _modules.pop(full, None)  # left by an earlier failure (pop: del of a bare name fails)
    had = _ours()
    try:
        return __import__(full, None, None, [name])
    except BaseException as e:
        _drop(had)
        if type(e) is MemoryError:  # not an AllocError: what to do, from a module of its
            # own (no RAM until needed); the original error stands if even that fails
            try:
                e = __import__(full[:8] + "_advice", None, None, [full]).advise(full)
            except BaseException:
                _drop(had)  # _advice, if half made
        raise e


def _ours():
    return [key for key in _modules if key.startswith("stalloc.")]


def _drop(had):
    # Every module of the package imported since `had` was taken and not finished (what
    # a failed import brought in): nothing allocated, this runs just after a MemoryError.
    found = True
    while found:
        found = False
        for key in _modules:
            if (
                key.startswith("stalloc.")
                and key not in had
                and not hasattr(_modules.get(key), "_READY")
            ):
                _modules.pop(key, None)
                found = True
                break


class AllocError(MemoryError):
    """Out of memory: no free space fits the request. The allocator is unchanged.

    A subclass of MemoryError, so code that already handles MemoryError keeps working.
    Inside a hard interrupt handler (heap locked) MicroPython cannot build the exception
    and raises a plain MemoryError instead: catch MemoryError there.
    """


class Allocator:
    """Base class of the allocators: `allocator.chain(fallback)` is an AllocChain trying
    this allocator first, then `fallback`; `with allocator.scoped(nbytes, align=1) as
    view:` allocates on entry and frees on exit. On MicroPython both load on first use."""

    # chain() (chain.py) and scoped() (_scope.py) are added to this class by their
    # modules: on MicroPython when first used, on CPython at once (end of this file).

    def __getattr__(self, name):
        # Only for names the class lacks (until the module that adds them is loaded).
        if name == "chain":
            load("chain")
        elif name == "scoped":
            load("_scope")
        else:
            raise AttributeError("'%s' object has no attribute '%s'" % (type(self).__name__, name))
        return getattr(self, name)


# CPython: chain() and scoped() on the class from the start, for help() and dir().
if not IS_MPY:
    from . import _scope, chain  # noqa: F401

_READY = True  # see load()
