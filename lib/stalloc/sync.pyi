from contextlib import AbstractContextManager

from .heap import Stalloc, _HeapAPI

UnsafeStalloc = Stalloc

class SyncStalloc(_HeapAPI):
    def acquire_locked(self) -> AbstractContextManager[Stalloc]: ...
