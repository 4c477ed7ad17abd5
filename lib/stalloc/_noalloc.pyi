from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")

class AllocatedError(AssertionError): ...

def noalloc(fn: Callable[..., _T], *args: object) -> _T: ...
