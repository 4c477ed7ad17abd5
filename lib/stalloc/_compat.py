# Everything that differs between CPython and MicroPython, and nothing else.
#
# The rest of the package imports these names and never tests the runtime itself.

import sys

IS_MPY = sys.implementation.name == "micropython"

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


try:
    from _thread import allocate_lock as _allocate_lock
    from _thread import get_ident
except ImportError:  # a MicroPython build without threads

    class _NoLock:
        # Nothing can race, but a scheduled callback can still re-enter: keep the state
        # so that SyncStalloc notices instead of working on a half-updated heap.
        def __init__(self):
            self._held = False

        def acquire(self, blocking=True, timeout=-1):
            if self._held:
                if blocking:
                    raise RuntimeError("lock already held: waiting would never end")
                return False
            self._held = True
            return True

        def release(self):
            self._held = False

    def _allocate_lock():
        return _NoLock()

    def get_ident():
        return 0


if isinstance(True, int):

    def is_int(x):
        return isinstance(x, int)

else:  # MicroPython: bool is not an int subclass there, but behaves as 0 and 1

    def is_int(x):
        return isinstance(x, int) or x is True or x is False


if IS_MPY:
    # SyncStalloc records the holding thread itself, in native code where no scheduled
    # callback can run between taking the lock and recording it (see _viper.locked*).
    LOCK_KNOWS_OWNER = False

    def new_lock():
        """A plain lock from `_thread` (a stand-in on builds without threads)."""
        return _allocate_lock()

else:
    from _thread import RLock as _RLock

    # An RLock records its owner atomically as it is taken, so a signal handler that
    # interrupts a call can tell that its own thread holds the lock. SyncStalloc never
    # takes it twice: it asks _is_owned() first and refuses.
    LOCK_KNOWS_OWNER = True

    def new_lock():
        """An RLock, used as a plain lock that can say whether this thread holds it."""
        return _RLock()


if IS_MPY:
    import uctypes

    addressof = uctypes.addressof

    def view_address(view):
        """Address of a memoryview's first byte, or -1 for anything else. Never raises."""
        # No try: in bytecode it would put the caller's frame on the GC heap.
        return addressof(view) if type(view) is memoryview else -1

    def u16_view(buf):
        """buf's bytes as u16 items (native byte order), sharing its memory."""
        # A uctypes view holds a raw address: the caller must keep buf alive.
        layout = {"w": (uctypes.ARRAY | 0, uctypes.UINT16 | (len(buf) // 2))}
        return uctypes.struct(uctypes.addressof(buf), layout, uctypes.NATIVE).w

    def release(view):
        # MicroPython memoryviews cannot be released; a stale view stays usable.
        pass

else:
    import ctypes

    _from_buffer = ctypes.c_char.from_buffer
    _addressof = ctypes.addressof

    def addressof(buf):
        """Address of the first byte of a writable buffer of at least one byte."""
        return _addressof(_from_buffer(buf))

    def view_address(view):
        """Address of a memoryview's first byte, or -1 for anything else. Never raises."""
        try:
            return _addressof(_from_buffer(view)) if type(view) is memoryview else -1
        except (TypeError, ValueError):  # read-only, empty or released
            return -1

    def u16_view(buf):
        """buf's bytes as u16 items (native byte order), sharing its memory."""
        return memoryview(buf).cast("H")

    def release(view):
        # Released views raise ValueError on any use, so a view kept past free()
        # cannot silently read or write memory that now belongs to someone else.
        try:
            view.release()
        except BufferError:
            # Something still exports the view (a memoryview of it, a ctypes object):
            # it cannot be released, and stays as usable as on MicroPython.
            pass


def _pure_requested():
    # STALLOC_PURE=1 selects the pure-Python kernels where an accelerator exists,
    # so the test suite can run the reference path on MicroPython too.
    try:
        from os import getenv
    except ImportError:  # boards: no environment
        return False
    return getenv("STALLOC_PURE") not in (None, "", "0")


def heap_kernels():
    """The free-list kernels: viper on MicroPython when the native emitter is there."""
    if IS_MPY and not _pure_requested():
        try:
            from . import _viper

            return _viper
        except (ImportError, SyntaxError):
            # A port built without the native emitter rejects @micropython.viper.
            pass
    from . import _kernel

    return _kernel
