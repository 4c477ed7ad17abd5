# Everything that differs between CPython and MicroPython, and nothing else.
#
# The rest of the package imports these names and never tests the runtime itself.

import array  # at the top, not in itemsize(): see the note on imports in stack.py
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

        # `with lock:` as with a _thread lock (the per-thread state of the stack uses it)
        def __enter__(self):
            self.acquire()
            return True

        def __exit__(self, exc_type, exc, tb):
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


def _submodule(name):
    # By full name, not `from . import name`: on MicroPython that asks the package's
    # __getattr__ first, and the package turns a missing module into AttributeError.
    __import__("stalloc." + name)
    return sys.modules["stalloc." + name]


def accelerator():
    """The viper/native module on MicroPython when the native emitter is there and
    STALLOC_PURE is not set; None otherwise (CPython, pure requested, no emitter)."""
    if IS_MPY and not _pure_requested():
        try:
            return _submodule("_viper")
        except (ImportError, SyntaxError, ValueError):
            # A port built without the native emitter rejects @micropython.viper
            # (SyntaxError), a build for such a board leaves _viper out (ImportError), and
            # an .mpy built for another arch is refused (ValueError): the pure code runs.
            pass
    return None


def heap_kernels():
    """The free-list kernels: viper on MicroPython when the native emitter is there."""
    return accelerator() or _submodule("_kernel")


# -- typed views and per-thread state (the second stack, the arena) --------------------

_ITEMSIZE = {}


def itemsize(typecode):
    """Bytes per item of an `array` typecode ('b', 'B', 'h', 'H', 'i', 'I', 'l', 'L',
    'q', 'Q', 'f', 'd'); ValueError for anything else."""
    size = _ITEMSIZE.get(typecode)
    if size is None:
        if not isinstance(typecode, str) or len(typecode) != 1 or typecode not in "bBhHiIlLqQfd":
            raise ValueError("typecode must be one of 'bBhHiIlLqQfd', got %r" % (typecode,))
        # MicroPython's arrays have no itemsize attribute: measure one item.
        size = _ITEMSIZE[typecode] = len(bytes(array.array(typecode, [0])))
    return size


class ItemView:
    """Base of the views this library builds itself (object slots; typed items on
    MicroPython): len(), indexing (negative too), slicing, iteration, tolist(), and
    release(), after which every use raises ValueError, like a released memoryview."""

    _what = "view"

    def __init__(self, items, base, n):
        self._items = items  # indexable storage; None once released
        self._base = base  # where item 0 is in it
        self._n = n

    def _live(self):
        if self._items is None:
            raise ValueError("operation forbidden on a released " + self._what)
        return self._items

    def __len__(self):
        self._live()
        return self._n

    def _index(self, k):
        if k < 0:
            k += self._n
        if not 0 <= k < self._n:
            raise IndexError(self._what + " index out of range")
        return self._base + k

    def __getitem__(self, k):
        items = self._live()
        if isinstance(k, slice):
            return self._slice(k)
        return items[self._index(k)]

    def __setitem__(self, k, value):
        items = self._live()
        if isinstance(k, slice):
            self._assign(k, value)
        else:
            items[self._index(k)] = value

    def _slice(self, k):
        start, stop, step = k.indices(self._n)
        items = self._items
        return [items[self._base + j] for j in range(start, stop, step)]

    def _assign(self, k, value):
        raise TypeError("this view does not support slice assignment")

    def __iter__(self):
        items = self._live()
        for k in range(self._base, self._base + self._n):
            yield items[k]

    def tolist(self):
        return list(self)

    def release(self):
        self._items = None


if IS_MPY:
    _UCTYPE = {
        "b": uctypes.INT8,
        "B": uctypes.UINT8,
        "h": uctypes.INT16,
        "H": uctypes.UINT16,
        "i": uctypes.INT32,
        "I": uctypes.UINT32,
        "q": uctypes.INT64,
        "Q": uctypes.UINT64,
        "f": uctypes.FLOAT32,
        "d": uctypes.FLOAT64,
    }

    class TypedView(ItemView):
        """Typed items over a byte view, as memoryview.cast gives on CPython.

        Besides ItemView: slicing (step 1, a TypedView) and slice assignment from any
        iterable of the same length.
        """

        _what = "typed view"

        def __init__(self, view, typecode):
            size = itemsize(typecode)
            n = len(view) // size
            code = _UCTYPE.get(typecode)
            if code is None:  # 'l'/'L': 4 or 8 bytes depending on the port
                code = {4: uctypes.INT32, 8: uctypes.INT64}[size]
                if typecode == "L":
                    code = {4: uctypes.UINT32, 8: uctypes.UINT64}[size]
            items = ()  # zero items: nothing to point at, but alive
            if n:
                layout = {"a": (uctypes.ARRAY | 0, code | n)}
                items = uctypes.struct(addressof(view), layout, uctypes.NATIVE).a
            ItemView.__init__(self, items, 0, n)
            self._view = view  # keeps the memory alive: uctypes holds a bare address
            self._typecode = typecode

        def _slice(self, k):
            start, stop, step = k.indices(self._n)
            if step != 1:
                raise NotImplementedError("typed view slices need step 1")
            size = itemsize(self._typecode)
            stop = max(start, stop)
            return TypedView(self._view[start * size : stop * size], self._typecode)

        def _assign(self, k, value):
            start, stop, step = k.indices(self._n)
            values = list(value)
            if step != 1 or len(values) != max(0, stop - start):
                raise ValueError("typed view slice assignment must keep the length")
            items = self._items
            for j in range(len(values)):
                items[start + j] = values[j]

        @property
        def format(self):
            return self._typecode

        def release(self):
            ItemView.release(self)
            self._view = None

    def typed_view(view, typecode):
        """`view` (bytes) seen as items of `typecode`."""
        return TypedView(view, typecode)

    class _PerThread:
        # One value per thread, keyed by thread id (MicroPython has no threading.local).
        # Entries of finished threads stay until set(None) is called in them. The lock:
        # MicroPython's unix port (and some boards) run threads without a GIL, and a dict
        # resized by one thread while another reads it loses entries.
        def __init__(self):
            self._values = {}
            self._lock = new_lock()

        def get(self):
            with self._lock:
                return self._values.get(get_ident())

        def set(self, value):
            with self._lock:
                if value is None:
                    self._values.pop(get_ident(), None)
                else:
                    self._values[get_ident()] = value

else:
    import threading

    def typed_view(view, typecode):
        """`view` (bytes) seen as items of `typecode`."""
        itemsize(typecode)  # the same ValueError as on MicroPython
        return view.cast(typecode)

    class _PerThread:
        # threading.local: a value per thread, gone with the thread.
        def __init__(self):
            self._local = threading.local()

        def get(self):
            return getattr(self._local, "value", None)

        def set(self, value):
            self._local.value = value


def per_thread():
    """An object with get() and set(value) holding one value per thread."""
    return _PerThread()
