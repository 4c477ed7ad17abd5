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
except ImportError:  # a MicroPython build without threads: nothing can race

    class _NoLock:
        def acquire(self, blocking=True, timeout=-1):
            return True

        def release(self):
            pass

        def __enter__(self):
            return self

        def __exit__(self, exc_type, exc, tb):
            pass

    def _allocate_lock():
        return _NoLock()

    def get_ident():
        return 0


def new_lock():
    """A non-reentrant lock: `threading`'s on CPython, `_thread`'s on MicroPython."""
    return _allocate_lock()


if IS_MPY:
    import uctypes

    addressof = uctypes.addressof

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
