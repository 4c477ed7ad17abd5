"""stalloc: fixed-budget memory for MicroPython and CPython.

- heap.py, chain.py: a block heap with a fallback chain (after the Rust crate stalloc);
- stack.py: a per-thread second stack of scoped frames (second-stack, second_stack2);
- _alloca.py: alloca-style scoped buffers on that stack (stackalloc);
- arena.py: an arena reset at the end of each scope (light_arena);
- trace.py: a heap that logs its calls, to replay and plot them on the host.

Every allocator hands out memoryviews and raises AllocError, a MemoryError, when it is
out of memory.

Names are imported on first use (a module `__getattr__`, PEP 562; MicroPython has it
too): `from stalloc import Stalloc` loads the heap's modules and not the stack's. Code
kept on a board costs RAM (about 60 KB for everything on a 64-bit port, roughly half on a
32-bit board), so a program pays only for the parts it uses; `import *` loads everything,
and so does dir(stalloc) on MicroPython (it tries every name it knows: tab completion at
the REPL does it). On MicroPython a missing name in `from stalloc import x` raises
AttributeError (it does not turn it into ImportError as CPython does).
"""

from sys import modules as _modules

__version__ = "0.2.0"

# public name -> the submodule defining it
_WHERE = {
    "AllocError": "_allocator",
    "Allocator": "_allocator",
    "AllocChain": "chain",
    "System": "chain",
    "HeapStats": "heap",
    "Stalloc": "heap",
    "SyncStalloc": "heap",
    "UnsafeStalloc": "heap",
    "Stack": "stack",
    "StackVec": "stack",
    "buffer": "stack",
    "buffered": "stack",
    "default_stack": "stack",
    "frame": "stack",
    "set_default_stack": "stack",
    "stack_vec": "stack",
    "uninit": "stack",
    "uninit_slice": "stack",
    "with_stack_vec": "stack",
    "alloca": "_alloca",
    "alloca_zeroed": "_alloca",
    "stackalloc": "_alloca",
    "stackalloc_uninit": "_alloca",
    "stackalloc_with": "_alloca",
    "stackalloc_with_iter": "_alloca",
    "MemoryArena": "arena",
    "TraceRecorder": "trace",
}

__all__ = sorted(_WHERE)


# submodules the package imports when asked for by name; other names are looked up in
# sys.modules only, so a miss (hasattr, MicroPython's dir() probing every name it knows)
# never touches the filesystem
_SUBMODULES = (
    "_alloca",
    "_allocator",
    "_compat",
    "_kernel",
    "_viper",
    "arena",
    "chain",
    "heap",
    "stack",
    "trace",
)


def __getattr__(name):
    where = _WHERE.get(name)
    if where is not None:
        value = getattr(__import__("stalloc." + where, None, None, [name]), name)
        globals()[name] = value  # later lookups do not come back here
        return value
    # A submodule (`from stalloc import heap`): MicroPython asks the package for the name
    # before it imports the submodule, so import it here.
    full = "stalloc." + name
    if name in _SUBMODULES and full not in _modules:
        try:
            __import__(full)
        except (ImportError, SyntaxError, ValueError):
            # A module this runtime or build cannot load: _viper on CPython (ImportError),
            # on a port without the native emitter (SyntaxError) or built for another
            # arch (ValueError). To getattr, hasattr and dir() it is a missing name;
            # `import stalloc._viper` still raises.
            pass
    module = _modules.get(full)  # or one imported by its full name, like a port's
    if module is None:
        raise AttributeError("module 'stalloc' has no attribute '%s'" % name)
    return module


def __dir__():
    return __all__ + ["__version__"]
