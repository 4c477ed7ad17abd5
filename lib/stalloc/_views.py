# The second stack's and the arena's runtime differences: typed views (CPython's
# memoryview.cast, MicroPython's uctypes), the views this library builds itself (object
# slots), and one value per thread. The block heap never loads this module.

import array  # at the top, not in itemsize(): see the note on imports in stack.py

from ._base import IS_MPY

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
    import uctypes

    from ._base import addressof
    from ._lock import get_ident, new_lock

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
