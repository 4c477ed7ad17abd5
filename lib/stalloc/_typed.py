# Typed views: `array` typecodes over a byte view, as CPython's memoryview.cast gives;
# MicroPython builds them with uctypes. For the stack's typed frames and vecs
# (_stackx.py) and the arena's arrays, loaded with them.

import array  # at the top, not in itemsize(): see the note on imports in _stackx.py

from ._base import IS_MPY
from ._views import ItemView

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


if IS_MPY:
    import uctypes

    from ._base import addressof

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


else:

    def typed_view(view, typecode):
        """`view` (bytes) seen as items of `typecode`."""
        itemsize(typecode)  # the same ValueError as on MicroPython
        return view.cast(typecode)


_READY = True  # see _base.load()
