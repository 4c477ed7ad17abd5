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

    def u16_view(buf):
        """buf's bytes as u16 items (native byte order), sharing its memory. uctypes
        keeps a bare address: the caller keeps buf alive."""
        u = uctypes
        return u.struct(addressof(buf), {"w": (u.ARRAY | 0, u.UINT16 | len(buf) // 2)}).w

    def release(view):
        pass  # MicroPython cannot release a memoryview

else:  # CPython: ctypes, in a module a board never loads
    from ._cpython import addressof, release, u16_view, view_address  # noqa: F401


# True keeps the pure code where native twins could run: the tests' reference path
# (tools/upytest.py sets it for STALLOC_PURE=1). Set it before the first import of the
# heap or the stack; the library never reads the environment itself.
PURE = False


def native(name):
    """The native-twin module stalloc.<name> where it can run (MicroPython with the
    native emitter, PURE unset), else None: the pure code runs."""
    if IS_MPY and not PURE:
        try:
            return __import__("stalloc." + name, None, None, [name])
        except (ImportError, SyntaxError, ValueError):
            # No native emitter (SyntaxError), left out of a build for such a board
            # (ImportError), or an .mpy for another arch (ValueError).
            pass
    return None


class AllocError(MemoryError):
    """Out of memory: no free space fits the request. The allocator is unchanged.

    A subclass of MemoryError, so code that already handles MemoryError keeps working.
    Inside a hard interrupt handler (heap locked) MicroPython cannot build the exception
    and raises a plain MemoryError instead: catch MemoryError there.
    """


class Allocator:
    """Base class: what every allocator gets from the protocol above."""

    def chain(self, fallback):
        """An AllocChain that tries this allocator first, then `fallback`."""
        from .chain import AllocChain

        return AllocChain(self, fallback)

    def scoped(self, nbytes, align=1):
        """`with allocator.scoped(n) as view:` allocates on entry and frees on exit.

        The view is freed when the block ends, also by an exception. Allocation happens
        on entry, so AllocError is raised by the `with` statement itself. RuntimeError
        at the end if the block freed or reallocated the view itself.
        """
        from ._scope import Scope

        return Scope(self, nbytes, align)
