# stalloc.irq (ports/micropython/stalloc/irq.py): IrqStalloc, a heap the main program and
# hard interrupt handlers share. Portable: pytest on CPython, tools/upytest.py on
# MicroPython (viper and STALLOC_PURE=1).
#
# Neither runtime here has machine.disable_irq, so the tests inject Cpu, a simulated
# interrupt controller for one core, as the critical section: disable() masks and returns
# the previous state, enable(state) restores it, and an interrupt raised while masked
# stays pending until enable() unmasks, as on hardware. Its handler runs masked and, on
# MicroPython, with the GC heap locked, as a hard IRQ handler does. Cpu counts any
# interrupt taken while a critical section is held (a violation) and logs every event into
# a preallocated bytearray, so it allocates nothing and works with the heap locked.
#
# The module lives outside lib/stalloc (the core must not need it). The tests import the
# file as the top-level module `irq` (on a board, tools/deploy.py installs it as
# stalloc.irq); it imports the core by absolute name (`from stalloc import ...`), which
# works the same either way.

import sys

from test_heaplock import _exercise  # every integer-API call, results into a bytearray

from stalloc import AllocError, Stalloc, System, UnsafeStalloc

from _util import IS_MPY, Rng, SkipTest, data_and_free_list, fill, raises, snapshot, verify


def _here():
    f = __file__
    cut = max(f.rfind("/"), f.rfind("\\"))
    return f[:cut] if cut >= 0 else "."


ROOT = _here() + "/.."
PORT = ROOT + "/ports/micropython"


def _on_board():
    # tools/deploy.py sends the tests to a board, not the repository around them
    try:
        open(ROOT + "/pyproject.toml").close()
    except OSError:
        return True
    return False


ON_BOARD = _on_board()


def _load_irq():
    # The repository's file; on a board, the port installed as stalloc.irq by deploy.
    if ON_BOARD:
        __import__("stalloc.irq")
        return sys.modules["stalloc.irq"]
    path = PORT + "/stalloc"
    sys.path.insert(0, path)
    try:
        import irq
    finally:
        sys.path.remove(path)
    return irq


irq = _load_irq()
IrqStalloc = irq.IrqStalloc

if IS_MPY:
    import micropython

# Cpu log codes: mask, unmask, interrupt taken, handler returned.
DIS = 1
ENA = 2
IRQ = 3
RET = 4


class Cpu:
    """One core's interrupt mask, as an injected critical section (see the top)."""

    def __init__(self):
        self.enabled = 1
        self.depth = 0  # critical sections currently held (nesting)
        self.pending = None  # handler of an interrupt raised while masked
        self.during_next_call = None  # raised inside the next disable(): mid-call
        self.violations = 0  # interrupts taken while a critical section was held
        self.errors = 0  # exceptions that escaped a handler
        self.taken = 0
        self.log = bytearray(64)
        self.n = 0

    def clear(self):
        self.n = 0

    def events(self):
        return list(self.log[: self.n])

    def _rec(self, code):
        if self.n < len(self.log):
            self.log[self.n] = code
            self.n += 1

    def disable(self):
        state = self.enabled
        self.enabled = 0
        self.depth += 1
        self._rec(DIS)
        handler = self.during_next_call
        if handler is not None:
            # The interrupt line rises while the heap call runs: masked, so it waits.
            self.during_next_call = None
            self.interrupt(handler)
        return state

    def enable(self, state):
        self._rec(ENA)
        self.depth -= 1
        self.enabled = state
        if state and self.pending is not None:
            self._take()

    def interrupt(self, handler):
        """The interrupt line rises: taken now if unmasked, else once unmasked."""
        self.pending = handler
        if self.enabled:
            self._take()

    def _take(self):
        handler = self.pending
        self.pending = None
        if self.depth:
            self.violations += 1
        self.taken += 1
        self._rec(IRQ)
        self.enabled = 0  # one priority level: nothing preempts the handler
        if IS_MPY:
            micropython.heap_lock()
        try:
            handler()
        except Exception:  # a board prints it and carries on; count it
            self.errors += 1
        if IS_MPY:
            micropython.heap_unlock()
        self.enabled = 1
        self._rec(RET)


def _heap(L=16, B=8):
    cpu = Cpu()
    return IrqStalloc(L, B, (cpu.disable, cpu.enable)), cpu


def _mpy():
    if not IS_MPY:
        raise SkipTest("micropython.heap_lock() exists only on MicroPython")
    return micropython


def _unmasked(cpu):
    return cpu.enabled == 1 and cpu.depth == 0 and cpu.pending is None


def _pairs_only(cpu):
    # The log is DIS, ENA, DIS, ENA, ...: every critical section closed, none nested.
    ev = cpu.events()
    return len(ev) % 2 == 0 and ev == [DIS, ENA] * (len(ev) // 2)


def _one_pair(cpu, fn, *args):
    cpu.clear()
    r = fn(*args)
    assert cpu.events() == [DIS, ENA], (getattr(fn, "__name__", fn), cpu.events())
    assert _unmasked(cpu)
    return r


# -- construction and the critical section ---------------------------------------------


class _FakeMachine:
    # Stands in for the machine module: disable_irq() returns a state, enable_irq(state)
    # must get that same state back.
    def __init__(self):
        self.calls = []

    def disable_irq(self):
        self.calls.append("disable")
        return 7

    def enable_irq(self, state):
        self.calls.append(state)


def test_default_critical_section_is_machine_disable_irq():
    try:
        import machine

        has_irq = hasattr(machine, "disable_irq")
    except ImportError:
        has_irq = False
    if not has_irq:
        # CPython, the unix port: no silent fallback to an unprotected heap.
        e = raises(RuntimeError, IrqStalloc, 8, 8)
        assert "critical=" in str(e) and "disable_irq" in str(e)
    saved = sys.modules.get("machine")
    try:
        fake = _FakeMachine()
        sys.modules["machine"] = fake
        h = IrqStalloc(8, 8)
        assert h.allocate_blocks(2) == 0
        h.deallocate_blocks(0, 2)
        assert fake.calls == ["disable", 7, "disable", 7]
        sys.modules["machine"] = object()  # a machine module without disable_irq
        raises(RuntimeError, IrqStalloc, 8, 8)
    finally:
        if saved is None:
            sys.modules.pop("machine", None)
        else:
            sys.modules["machine"] = saved


def test_critical_must_be_a_pair_of_callables():
    def f():
        return 0

    for bad in (5, (f,), (f, f, f), (f, 1), (1, f), "ab", [f, None]):
        raises(TypeError, IrqStalloc, 8, 8, bad)
    # A list works as well as a tuple; bad geometry is Stalloc's error.
    IrqStalloc(8, 8, [f, lambda s: None])
    raises(ValueError, IrqStalloc, 0, 8, (f, lambda s: None))
    raises(ValueError, IrqStalloc, 8, 3, (f, lambda s: None))


# -- every call inside exactly one critical section ------------------------------------


def test_every_call_runs_inside_exactly_one_critical_section():
    h, cpu = _heap(16, 8)
    # integer API
    a = _one_pair(cpu, h.allocate_blocks, 3)
    b = _one_pair(cpu, h.allocate_blocks, 2, 4)
    assert (a, b) == (0, 4)
    _one_pair(cpu, h.shrink_in_place, a, 3, 2)
    _one_pair(cpu, h.grow_in_place, a, 2, 3)
    assert _one_pair(cpu, h.grow_up_to, a, 3, 8) == 4
    assert _one_pair(cpu, h.is_oom) is False
    assert _one_pair(cpu, h.is_empty) is False
    _one_pair(cpu, h.deallocate_blocks, b, 2)
    _one_pair(cpu, h.deallocate_blocks, a, 4)
    _one_pair(cpu, h.clear)
    # byte API
    v = _one_pair(cpu, h.alloc, 20)
    v = _one_pair(cpu, h.realloc, v, 40)
    assert _one_pair(cpu, h.owns, v) is True
    _one_pair(cpu, h.free, v)
    # diagnostics
    assert _one_pair(cpu, h.free_runs) == [(0, 16)]
    assert _one_pair(cpu, h.map, 8) == "........"
    assert _one_pair(cpu, h.stats).used == 0
    _one_pair(cpu, h.check)
    assert _one_pair(cpu, str, h).startswith("Stallocator with 16 blocks of 8 bytes each")
    # what reads no heap state takes no critical section
    cpu.clear()
    assert (h.blocks, h.block_size, h.footprint) == (16, 8, 16 * 8 + 12)
    assert h.memory is h._heap.memory and len(h.memory) == 16 * 8
    assert repr(h) == "IrqStalloc(16, 8, used=0/16 blocks)"
    assert cpu.events() == []
    # composite operations: one section per heap call, never nested, all closed
    cpu.clear()
    with h.scoped(30) as s:
        assert cpu.events() == [DIS, ENA]
        s[0] = 1
    assert _pairs_only(cpu) and cpu.n >= 4 and _unmasked(cpu)
    chain = h.chain(System(limit=1024))
    cpu.clear()
    w = chain.alloc(64)
    chain.free(w)
    big = chain.alloc(8 * 17)  # does not fit the heap: System serves it
    chain.free(big)
    assert _pairs_only(cpu) and cpu.n >= 2 and _unmasked(cpu)
    h.check()
    assert h.is_empty()


class _Spy:
    # A critical section that photographs the heap when it masks and when it unmasks.
    def __init__(self):
        self.heap = None
        self.shots = []

    def disable(self):
        self.shots.append(snapshot(self.heap))
        return 0

    def enable(self, state):
        self.shots.append(snapshot(self.heap))


def test_the_heap_changes_only_inside_the_critical_section():
    spy = _Spy()
    h = IrqStalloc(16, 8, (spy.disable, spy.enable))
    spy.heap = h

    def step(fn, *args):
        before = snapshot(h)
        spy.shots = []
        r = fn(*args)
        # masked before the first change, unmasked after the last one
        assert spy.shots == [before, snapshot(h)]
        return r

    a = step(h.allocate_blocks, 4)
    step(h.shrink_in_place, a, 4, 2)
    step(h.grow_in_place, a, 2, 3)
    step(h.grow_up_to, a, 3, 5)
    v = step(h.alloc, 10)
    v = step(h.realloc, v, 60)
    step(h.free, v)
    step(h.deallocate_blocks, a, 5)
    step(h.allocate_blocks, 16)
    step(h.clear)
    assert h.is_empty()


def test_calls_that_raise_leave_interrupts_as_they_were():
    h, cpu = _heap(8, 8)
    a = h.allocate_blocks(4)
    v = h.alloc(8)  # block 4
    cases = (
        (ValueError, h.deallocate_blocks, (6, 2)),  # free blocks: never allocated
        (ValueError, h.deallocate_blocks, (7, 4)),  # past the heap's end
        (ValueError, h.shrink_in_place, (a, 4, 4)),
        (ValueError, h.grow_up_to, (a, 4, 2)),
        (ValueError, h.free, (bytearray(8),)),
        (ValueError, h.realloc, (memoryview(bytearray(8)), 16)),
        (ValueError, h.map, (0,)),
        (TypeError, h.allocate_blocks, ("1",)),
        (TypeError, h.alloc, (1.5,)),
        (AllocError, h.allocate_blocks, (4,)),
        (AllocError, h.grow_in_place, (a, 4, 6)),
        (AllocError, h.alloc, (8 * 4,)),
        (AllocError, h.realloc, (v, 8 * 5)),
    )
    for exc, fn, args in cases:
        before = data_and_free_list(h)
        cpu.clear()
        raises(exc, fn, *args)
        assert cpu.events() == [DIS, ENA], (fn, args, cpu.events())
        assert _unmasked(cpu)
        assert data_and_free_list(h) == before, (fn, args)
    assert h.owns(v)
    h.check()


def test_nested_calls_leave_interrupts_masked_until_the_outer_section_ends():
    h, cpu = _heap(16, 8)
    ran = bytearray(1)

    def handler():
        ran[0] += 1

    s = cpu.disable()  # the program's own critical section
    assert s == 1
    cpu.interrupt(handler)  # arrives while masked: waits
    i = h.allocate_blocks(2)
    assert cpu.enabled == 0 and cpu.depth == 1
    v = h.alloc(20)
    h.free(v)
    with h.acquire_locked() as inner:
        assert cpu.depth == 2
        inner.deallocate_blocks(i, 2)
        assert h.is_empty()  # this object's calls nest inside the batch
    assert cpu.enabled == 0 and cpu.depth == 1 and ran[0] == 0
    raises(AllocError, h.allocate_blocks, 17)  # an exception restores the masked state too
    assert cpu.enabled == 0 and cpu.depth == 1 and ran[0] == 0
    cpu.enable(s)
    assert ran[0] == 1 and cpu.violations == 0 and _unmasked(cpu)


def test_acquire_locked_holds_one_critical_section_for_a_batch():
    h, cpu = _heap(16, 8)
    ran = bytearray(1)

    def handler():
        ran[0] += 1

    cpu.clear()
    with h.acquire_locked() as inner:
        assert isinstance(inner, UnsafeStalloc)
        a = inner.allocate_blocks(2)
        b = inner.allocate_blocks(2)
        cpu.interrupt(handler)
        inner.deallocate_blocks(a, 2)
        assert cpu.events() == [DIS] and ran[0] == 0
    assert cpu.events() == [DIS, ENA, IRQ, RET] and ran[0] == 1
    cpu.clear()
    try:
        with h.acquire_locked() as inner:
            inner.allocate_blocks(100)
    except AllocError:
        pass
    assert cpu.events() == [DIS, ENA] and _unmasked(cpu)
    ctx = h.acquire_locked()
    with ctx:
        raises(RuntimeError, ctx.__enter__)
    assert _unmasked(cpu)
    h.deallocate_blocks(b, 2)
    assert h.is_empty()


def test_the_simulation_catches_a_critical_section_that_ignores_the_saved_state():
    # The control for the tests above: an enable() that always unmasks lets the
    # interrupt in while the program's own section is still held, and Cpu notices.
    cpu = Cpu()

    def sloppy_enable(state):
        cpu.enable(1)

    h = IrqStalloc(8, 8, (cpu.disable, sloppy_enable))
    ran = bytearray(1)

    def handler():
        ran[0] += 1

    s = cpu.disable()
    cpu.interrupt(handler)
    h.allocate_blocks(1)
    assert ran[0] == 1 and cpu.violations == 1
    cpu.enable(s)


# -- interrupts sharing the heap -------------------------------------------------------

NONE = 255  # no block
FAIL = 254  # the allocation failed
DURING = bytes([DIS, ENA, IRQ, DIS, ENA, RET])  # raised during the call: taken after it
BETWEEN = bytes([IRQ, DIS, ENA, RET, DIS, ENA])  # raised before the call: taken at once
ALONE = bytes([DIS, ENA])


def _log_is(cpu, pattern):
    # Compares without allocating (the GC heap may be locked).
    if cpu.n != len(pattern):
        return False
    for k in range(cpu.n):
        if cpu.log[k] != pattern[k]:
            return False
    return True


def _try_allocate(heap, size):
    try:
        return heap.allocate_blocks(size)
    except MemoryError:  # AllocError, or MemoryError with the GC heap locked
        return FAIL


def _drive(h, ref, cpu, ops, handler, mirror, live, bad):
    # The main program: one heap call per op (allocate 1..4 blocks, or free the oldest
    # allocation); an interrupt raised during the call (mode 1) or just before it
    # (mode 2) runs the handler. `ref`, a plain Stalloc, gets the same calls in the order
    # the simulation must run them (mirror() repeats the handler's call): the program's
    # call, then the handler's (mode 1), or the other way round (mode 2). Both heaps must
    # agree on every index. Allocates nothing: it runs with the GC heap locked.
    live_h, live_r, live_n = live
    head = tail = 0
    for k in range(len(ops)):
        mode = ops[k] & 3
        size = ops[k] >> 2
        cpu.clear()
        if mode == 2:
            cpu.interrupt(handler)
            mirror()
        elif mode == 1:
            cpu.during_next_call = handler
        if size:
            i = _try_allocate(h, size)
            r = _try_allocate(ref, size)
            if i != r:
                bad[0] += 1
            elif i != FAIL:
                live_h[tail & 63] = i
                live_r[tail & 63] = r
                live_n[tail & 63] = size
                tail += 1
        elif head != tail:
            j = head & 63
            h.deallocate_blocks(live_h[j], live_n[j])
            ref.deallocate_blocks(live_r[j], live_n[j])
            head += 1
        elif h.is_oom() != ref.is_oom():
            bad[0] += 1
        if mode == 1:
            mirror()
        if not _log_is(cpu, DURING if mode == 1 else BETWEEN if mode == 2 else ALONE):
            bad[1] += 1


def _sharing_run(seed, locked):
    h, cpu = _heap(32, 4)
    ref = Stalloc(32, 4)
    rng = Rng(seed)
    ops = bytearray(120)
    for k in range(len(ops)):
        size = 0 if rng.below(3) == 0 else rng.range(1, 4)
        ops[k] = size << 2 | rng.below(3)
    hb = bytearray([NONE, NONE, 0, 0])  # handler: block on h, on ref, action, unmasked
    bad = bytearray(2)  # index disagreements, unexpected event sequences

    def handler():
        # allocates a block, or frees the one it holds (integer API only)
        if hb[0] >= FAIL:
            hb[2] = 1
            hb[0] = _try_allocate(h, 1)
        else:
            hb[2] = 2
            h.deallocate_blocks(hb[0], 1)
            hb[0] = NONE
        if cpu.enabled:  # a heap call inside the handler unmasked interrupts
            hb[3] += 1

    def mirror():
        if hb[2] == 1:
            hb[1] = _try_allocate(ref, 1)
            if hb[1] != hb[0]:
                bad[0] += 1
        else:
            ref.deallocate_blocks(hb[1], 1)
            hb[1] = NONE

    live = (bytearray(64), bytearray(64), bytearray(64))  # ring: index on h, on ref, size
    if locked:
        micropython.heap_lock()
    try:
        _drive(h, ref, cpu, ops, handler, mirror, live, bad)
    finally:
        if locked:
            micropython.heap_unlock()
    interrupts = 0
    for op in ops:
        if op & 3:
            interrupts += 1
    assert list(bad) == [0, 0], list(bad)
    assert hb[3] == 0, "a heap call in the handler unmasked interrupts"
    assert cpu.taken == interrupts and cpu.violations == 0 and cpu.errors == 0
    assert _unmasked(cpu)
    assert snapshot(h) == snapshot(ref)  # same calls in the same order, byte for byte
    h.check()


def test_interrupts_wait_for_the_call_in_progress_then_share_the_heap():
    for seed in (1, 2, 3):
        _sharing_run(seed, locked=False)


def test_interrupts_share_the_heap_with_the_gc_heap_locked():
    # The same with the whole run under heap_lock(): the program's calls and the
    # handlers' allocate nothing, the critical-section helpers included (MicroPython
    # then gives their frames the C stack), and failures arrive as MemoryError.
    _mpy()
    for seed in (4, 5):
        _sharing_run(seed, locked=True)


# -- with the GC heap locked (MicroPython) ---------------------------------------------


def test_integer_api_runs_with_the_gc_heap_locked():
    micropython = _mpy()
    h, cpu = _heap(16, 8)
    out = bytearray(9)
    cpu.clear()
    micropython.heap_lock()
    try:
        _exercise(h, out)
        i = h.allocate_blocks(2)
        mem = h.memory  # data goes in and out by item access: no view per block
        mem[i * 8] = 0xA5
        mem[i * 8 + 15] = mem[i * 8]
        h.deallocate_blocks(i, 2)
    finally:
        micropython.heap_unlock()
    assert list(out) == [0, 4, 3, 1, 0, 0, 1, 1, 1], list(out)
    assert cpu.n == 2 * 18 and _pairs_only(cpu) and _unmasked(cpu), cpu.events()  # 18 calls
    assert h.memory[15] == 0xA5
    h.check()


def test_failures_with_the_gc_heap_locked_raise_memoryerror_and_unmask():
    # What a handler sees: no AllocError (it cannot be built), no ValueError (its
    # message cannot be built), and alloc() cannot build its view. Interrupts are
    # unmasked again every time and the heap keeps its blocks.
    micropython = _mpy()
    h, cpu = _heap(4, 8)
    a = h.allocate_blocks(3)
    runs = h.free_runs()
    used = h.stats().used
    caught = bytearray(4)
    cpu.clear()
    micropython.heap_lock()
    try:
        try:
            h.allocate_blocks(2)
        except MemoryError as e:
            caught[0] = 1 if type(e) is MemoryError else 2
        try:
            h.deallocate_blocks(3, 1)  # a free block
        except MemoryError:
            caught[1] = 1
        except ValueError:
            caught[1] = 2
        try:
            h.grow_in_place(a, 3, 5)
        except MemoryError as e:
            caught[2] = 1 if type(e) is MemoryError else 2
        try:
            h.alloc(16)  # two blocks: one is free
        except MemoryError:
            caught[3] = 1
    finally:
        micropython.heap_unlock()
    assert list(caught) == [1, 1, 1, 1], list(caught)
    assert cpu.n == 8 and _pairs_only(cpu) and _unmasked(cpu)
    assert h.free_runs() == runs and h.stats().used == used
    h.check()


# -- the same heap as Stalloc ----------------------------------------------------------


def test_same_results_as_a_plain_stalloc():
    h, cpu = _heap(48, 8)
    s = Stalloc(48, 8)
    rng = Rng(11)
    live = []  # (index, size)
    for _ in range(150):
        op = rng.below(4)
        if op < 2 or not live:
            size = rng.range(1, 6)
            align = 1 << rng.below(3)
            try:
                i = h.allocate_blocks(size, align)
            except AllocError:
                raises(AllocError, s.allocate_blocks, size, align)
                continue
            assert s.allocate_blocks(size, align) == i
            live.append((i, size))
        elif op == 2:
            i, size = live.pop(rng.below(len(live)))
            h.deallocate_blocks(i, size)
            s.deallocate_blocks(i, size)
        else:
            k = rng.below(len(live))
            i, size = live[k]
            new = h.grow_up_to(i, size, size + 2)
            assert s.grow_up_to(i, size, size + 2) == new
            if new > 1:
                h.shrink_in_place(i, new, new - 1)
                s.shrink_in_place(i, new, new - 1)
                new -= 1
            live[k] = (i, new)
        assert h.is_oom() == s.is_oom() and h.is_empty() == s.is_empty()
    assert snapshot(h) == snapshot(s)
    assert str(h) == str(s) and h.map() == s.map() and h.map(7) == s.map(7)
    assert h.free_runs() == s.free_runs() and repr(h.stats()) == repr(s.stats())
    h.check()
    # the byte API keeps contents like Stalloc's
    h.clear()
    v = h.alloc(30, 16)
    fill(v, 3)
    v = h.realloc(v, 200)
    assert verify(v[:30], 3)
    assert h.owns(v) and not h.owns(bytearray(4))
    h.free(v)
    with h.scoped(100) as w:
        fill(w, 9)
        assert h.stats().live_views == 1
    assert h.is_empty() and h.stats().live_views == 0
    assert _unmasked(cpu)


# -- packaging: an extension of the core, which does not need it -----------------------


def _read(path):
    # These tests check the repository's files: a board (tools/deploy.py) has only the
    # installed package, so there they skip; anywhere else a missing file fails.
    if ON_BOARD:
        raise SkipTest("the repository is not on the board")
    with open(path) as f:
        return f.read()


def test_package_json_installs_irq_next_to_the_core():
    # stalloc-irq is an extension package (tests/cpython/test_build.py checks that its
    # manifest.py freezes what this installs, after require("stalloc"))
    import json

    import stalloc

    where = ROOT + "/packages/stalloc-irq"
    pkg = json.loads(_read(where + "/package.json"))
    assert pkg["urls"] == [["stalloc/irq.py", "../../ports/micropython/stalloc/irq.py"]]
    assert pkg["version"] == stalloc.__version__
    assert pkg["deps"] == []  # see ports/README.md: the core is installed alongside
    _read(where + "/" + pkg["urls"][0][1])  # the source exists, relative to package.json


def test_the_core_never_imports_the_port():
    import os

    if ON_BOARD:  # its lib/stalloc holds .mpy files, irq included
        raise SkipTest("the repository is not on the board")
    core = ROOT + "/lib/stalloc"
    names = [n for n in os.listdir(core) if n.endswith(".py")]
    assert "heap.py" in names and "irq.py" not in names
    for name in names:
        text = _read(core + "/" + name)
        for needle in ("stalloc.irq", "import irq", ".irq import"):
            assert needle not in text, (name, needle)
