# Type information for CPython (the package itself is portable Python without annotations).
from ._alloca import alloca as alloca
from ._alloca import alloca_zeroed as alloca_zeroed
from ._alloca import stackalloc as stackalloc
from ._alloca import stackalloc_uninit as stackalloc_uninit
from ._alloca import stackalloc_with as stackalloc_with
from ._alloca import stackalloc_with_iter as stackalloc_with_iter
from ._base import Allocator as Allocator
from ._base import AllocError as AllocError
from ._noalloc import AllocatedError as AllocatedError
from ._noalloc import noalloc as noalloc
from ._stackx import StackVec as StackVec
from .arena import MemoryArena as MemoryArena
from .chain import AllocChain as AllocChain
from .chain import System as System
from .diag import HeapStats as HeapStats
from .heap import Stalloc as Stalloc
from .stack import Stack as Stack
from .stack import buffer as buffer
from .stack import buffered as buffered
from .stack import default_stack as default_stack
from .stack import frame as frame
from .stack import set_default_stack as set_default_stack
from .stack import stack_vec as stack_vec
from .stack import uninit as uninit
from .stack import uninit_slice as uninit_slice
from .stack import with_stack_vec as with_stack_vec
from .sync import SyncStalloc as SyncStalloc
from .sync import UnsafeStalloc as UnsafeStalloc
from .tasks import TaskStacks as TaskStacks
from .trace import TraceRecorder as TraceRecorder

__version__: str
__all__: list[str]
