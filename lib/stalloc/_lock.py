# Locks for SyncStalloc (sync.py) and the stack's per-thread state (_views.py): a
# `_thread` lock where the port has threads, a stand-in where it has none.

try:
    from _thread import allocate_lock as new_lock
    from _thread import get_ident
except ImportError:  # a MicroPython build without threads (the WebAssembly port, ESP8266)

    class new_lock:  # a class named as the function it stands in for
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

        def __enter__(self):
            return self.acquire()

        def __exit__(self, exc_type, exc, tb):
            self._held = False

    def get_ident():
        return 0


_READY = True  # see _base.load()
