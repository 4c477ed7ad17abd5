"""stalloc: fixed-budget memory for MicroPython and CPython.

Names load on first use (a module __getattr__, PEP 562, which MicroPython has too): a
program pays only for the modules it uses. `from stalloc import Stalloc` loads the block
heap and nothing of the second stack. On a board the second stack, the arena and the
tracer are extension packages (stalloc-stack, stalloc-arena, stalloc-trace): a name of
one that is not installed raises ImportError. `from stalloc import *` loads everything
installed (on MicroPython 1.27, only the names already loaded: import what you use).
"""

__version__ = "0.3.0"

# Every submodule, each followed by the public names it defines (a line starting with a
# space goes on with the one above). A string, not a dict: a board interns no name it
# never asks for. A module is imported when asked for by name (`from stalloc import
# heap`: MicroPython asks the package first); any other name is missing at once, so that
# dir() probing every name it knows (on ports without __dir__ support) never touches
# the filesystem.
_NAMES = """
_base AllocError Allocator
chain AllocChain System
diag HeapStats
heap Stalloc
sync SyncStalloc UnsafeStalloc
stack Stack buffer buffered default_stack frame set_default_stack stack_vec uninit uninit_slice
 with_stack_vec
tasks TaskStacks
_stackx StackVec
_alloca alloca alloca_zeroed stackalloc stackalloc_uninit stackalloc_with
 stackalloc_with_iter
arena MemoryArena
trace TraceRecorder
_noalloc AllocatedError noalloc
_advice
_check
_cpython
_lock
_repoint
_scope
_slow
_typed
_views
heap_native
irq
_repoint_native
stack_native
sync_native
"""


def _lines():
    return [line.split() for line in _NAMES.replace("\n ", " ").split("\n") if line]


def __getattr__(name):
    module = False
    for words in _lines():
        if name in words[1:]:
            from ._base import load

            value = getattr(load(words[0]), name)
            globals()[name] = value  # later lookups do not come back here
            return value
        module = module or name == words[0]
    if name == "__all__":
        return sorted(n for words in _lines() for n in words[1:])
    if module:
        __import__("gc").collect()  # as _base.load(): fragments cost a small board an import
        try:
            return __import__("stalloc." + name, None, None, [name])
        except (ImportError, SyntaxError, ValueError):
            # A module this build cannot load (the native twins without the native
            # emitter: SyntaxError; built for another arch: ValueError) is a missing
            # attribute, for hasattr() and dir(); `import stalloc.x` still raises.
            pass
    raise AttributeError("module 'stalloc' has no attribute '%s'" % name)


def __dir__():
    return __getattr__("__all__") + ["__version__"]
