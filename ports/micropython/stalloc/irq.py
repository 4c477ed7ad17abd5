"""stalloc.irq: one heap shared by the main program and hard interrupt handlers.

Installed next to the core package by ports/micropython (its manifest.py and package.json);
the core in lib/stalloc never imports it and is complete without it.

`IrqStalloc(blocks, block_size, critical=None)` is a Stalloc whose every public call runs
inside a critical section, by default `machine.disable_irq()` ...
`machine.enable_irq(state)`, with the re-enable in a `finally`, so interrupts are
restored also when the call raises. While
the main program is inside a heap call, interrupts wait: the hardware takes them as soon
as the call re-enables them. So a hard interrupt handler never finds the heap half-updated
and can use the same heap::

    from stalloc.irq import IrqStalloc

    heap = IrqStalloc(64, 32)  # main program: the byte API and the integer API
    slots = bytearray(8)  # handler results, preallocated

    def on_edge(pin):  # pin.irq(on_edge, hard=True)
        try:
            i = heap.allocate_blocks(1)
        except MemoryError:  # not AllocError: the handler cannot build one
            return
        heap.memory[i * 32] = pin.value()  # item access: no view, nothing allocated
        slots[0] = i

In a hard interrupt handler (the GC heap is locked there):

- use the integer API only: allocate_blocks, deallocate_blocks, shrink_in_place,
  grow_in_place, grow_up_to, is_oom, is_empty, clear, and the blocks' bytes through
  `memory` by item access. It allocates nothing.
- the byte API (alloc, realloc, scoped, chain) allocates a view and a dict entry per
  call: in a hard handler alloc() raises MemoryError (its blocks are given back). Use it
  from the main program (or soft interrupts and scheduled callbacks). The diagnostics
  (stats, free_runs, map, check, str) allocate their results: main program only.
- failures raise MicroPython's preallocated MemoryError: out of memory cannot build an
  AllocError, and a bad argument cannot build its ValueError message. Catch MemoryError.

The critical section. `critical=(disable, enable)` replaces the default pair: disable()
masks and returns a state, enable(state) restores that state; enable must not raise, and
a state that is a small int (as machine.disable_irq()'s is) keeps the calls free of
allocation. Each call restores the state its own disable() returned, so calls nest: inside
a section of the caller's (`s = machine.disable_irq()` ... `machine.enable_irq(s)`), in
acquire_locked(), or in a handler, a heap call leaves interrupts as it found them.
Without `critical`, the runtime must have machine.disable_irq: where it has not (CPython,
MicroPython's unix port) the constructor raises RuntimeError rather than run unprotected;
pass a pair there (the tests pass a simulated one).

Interrupt latency grows by one heap call at most (or one acquire_locked() block): O(F)
for the integer and byte APIs (F free runs), O(L) for map(), O(F + live views) for
check(). machine.disable_irq() masks interrupts on the calling core; whether it also
holds off code running on another core depends on the port. An IrqStalloc is for one
program and its interrupt handlers; between threads use SyncStalloc, whose lock a hard
handler cannot take.

Costs on top of Stalloc's: per call, one helper call and the two critical-section calls.
On the unix port (viper kernels) an allocate_blocks + deallocate_blocks pair takes about
1.3 us against Stalloc's 0.4 us, with Python functions standing in for machine's pair.
See _critical0 below for where the helper's frame lives.
"""

from stalloc.sync import _Guarded  # the call table shared with SyncStalloc

# -- critical calls --------------------------------------------------------------------
# One helper per arity instead of *args (a tuple per call), like heap.py's _locked0..3.
# The state lives in the helper's frame, so nested calls each restore their own.
# MicroPython keeps a bytecode function's frame on the C stack only up to 11 words
# (locals + value stack + 3 per try block): _critical0 needs 11 and fits, _critical1 to
# _critical3 need 13, 15 and 17. Those take their frame from the GC heap and free it on
# return (about 0.1 us on the unix port; nothing accumulates, though an allocation with
# the GC heap full may start a collection). With the GC heap locked, as in a hard
# interrupt handler, the VM falls back to the C stack: the tests run the integer API
# under micropython.heap_lock() to prove it. Native twins (as sync_native.py has for
# SyncStalloc) would avoid the heap frames, but this file must also compile where there
# is no native emitter.


def _critical0(irq, fn):
    s = irq._disable()
    try:
        return fn(irq._heap)
    finally:
        irq._enable(s)


def _critical1(irq, fn, a):
    s = irq._disable()
    try:
        return fn(irq._heap, a)
    finally:
        irq._enable(s)


def _critical2(irq, fn, a, b):
    s = irq._disable()
    try:
        return fn(irq._heap, a, b)
    finally:
        irq._enable(s)


def _critical3(irq, fn, a, b, c):
    s = irq._disable()
    try:
        return fn(irq._heap, a, b, c)
    finally:
        irq._enable(s)


def _machine_pair():
    try:
        import machine

        return machine.disable_irq, machine.enable_irq
    except (ImportError, AttributeError):
        raise RuntimeError(
            "IrqStalloc: this runtime has no machine.disable_irq() (CPython, MicroPython's "
            "unix port): pass critical=(disable, enable)"
        )


def _critical_pair(critical):
    if critical is None:
        return _machine_pair()
    try:
        disable, enable = critical
    except (TypeError, ValueError):
        disable = enable = None
    if not (callable(disable) and callable(enable)):
        raise TypeError("critical must be a pair of callables (disable, enable)")
    return disable, enable


class _Critical:
    # Context manager returned by IrqStalloc.acquire_locked().
    def __init__(self, irq):
        self._irq = irq
        self._state = None
        self._held = False

    def __enter__(self):
        if self._held:
            raise RuntimeError("acquire_locked() context already entered")
        self._state = self._irq._disable()
        self._held = True
        return self._irq._heap

    def __exit__(self, exc_type, exc, tb):
        # Runs on exceptions too: interrupts are never left masked.
        self._held = False
        self._irq._enable(self._state)


class IrqStalloc(_Guarded):
    """A Stalloc whose every call runs with interrupts masked: share it with hard IRQs.

    Same API as Stalloc (and SyncStalloc's acquire_locked()), same costs and errors, plus
    the critical section around each call. `critical` is a pair (disable, enable), by
    default (machine.disable_irq, machine.enable_irq); RuntimeError without it where
    machine has no disable_irq, TypeError if it is not a pair of callables. Hard
    interrupt handlers may call the integer API only; see the module docstring.
    """

    # Every call of the shared table (heap._Guarded) goes through these.
    _guard0 = staticmethod(_critical0)
    _guard1 = staticmethod(_critical1)
    _guard2 = staticmethod(_critical2)
    _guard3 = staticmethod(_critical3)

    def __init__(self, blocks, block_size, critical=None, views=4, strict=False):
        self._disable, self._enable = _critical_pair(critical)
        self._guard(blocks, block_size, views, strict)

    def acquire_locked(self):
        """`with heap.acquire_locked() as h:` masks interrupts for the whole block.

        h is the underlying UnsafeStalloc: a batch of calls on it costs one critical
        section. It must not be used after the block. Calls on this object inside the
        block nest and leave interrupts masked. Allocates the context object: not in
        a hard interrupt handler.
        """
        return _Critical(self)

    def __repr__(self):
        return "Irq" + repr(self._heap)  # (a snapshot, interrupts not masked)


_READY = True  # see stalloc._base.load()
