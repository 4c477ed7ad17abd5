# The second stack's runtime differences that every program using it needs: the views
# this library builds itself (object slots), and one value per thread. (Typed views are
# _typed.py; the block heap never loads either.)

from ._base import IS_MPY


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
    from ._lock import get_ident, new_lock

    class _PerThread:
        # One value per thread, keyed by thread id (MicroPython has no threading.local).
        # Entries of finished threads stay until set(None) is called in them. The lock:
        # MicroPython's unix port (and some boards) run threads without a GIL, and a dict
        # resized by one thread while another reads it loses entries. The id is had before
        # the lock: past 2**30 it is a big int (32-bit ports with high task addresses), a
        # MemoryError with the heap locked. No `with` in get(): its exception handler
        # would put the frame on the GC heap (dict.get of an int cannot raise).
        def __init__(self):
            self._values = {}
            self._lock = new_lock()

        def get(self):
            me = get_ident()
            lock = self._lock
            lock.acquire()
            value = self._values.get(me)
            lock.release()
            return value

        def set(self, value):
            me = get_ident()
            with self._lock:  # a dict that cannot grow raises: released, unchanged
                if value is None:
                    self._values.pop(me, None)
                else:
                    self._values[me] = value


else:
    import threading

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


_READY = True  # see _base.load()
