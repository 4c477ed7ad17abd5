# A tour of the block heap and the allocator chain. Runs unchanged on CPython and on
# MicroPython:
#   PYTHONPATH=lib python examples/tour.py
#   MICROPYPATH=lib micropython examples/tour.py

import sys

from stalloc import AllocError, Stalloc, System

IS_MPY = sys.implementation.name == "micropython"


def runtime():
    if not IS_MPY:
        return "CPython %d.%d" % sys.version_info[:2]
    from stalloc import heap

    return "MicroPython %s, %s kernels" % (
        ".".join(str(x) for x in sys.implementation.version[:3]),
        "viper" if heap.ACCELERATED else "pure-Python",
    )


def show(title, heap):
    print("  %-34s |%s|" % (title, heap.map()))


def main():
    print("== stalloc tour on %s" % runtime())

    # A fixed budget: 32 blocks of 16 bytes, one 524-byte bytearray, allocated once.
    heap = Stalloc(32, 16)
    print("\nA heap of 32 blocks x 16 bytes; footprint %d bytes, fixed." % heap.footprint)
    show("empty ('.' free, '#' used)", heap)

    packets = [heap.alloc(n) for n in (40, 16, 100, 16, 60)]
    show("five packets of 40..100 bytes", heap)
    for k, view in enumerate(packets):
        view[0] = k  # each view is a writable memoryview of exactly n bytes
    heap.free(packets[1])
    heap.free(packets[3])
    show("two freed: holes in place", heap)
    packets[2] = heap.realloc(packets[2], 130)
    show("one grown: it had to move", heap)
    small = heap.alloc(16)
    show("first fit reuses the first hole", heap)

    print("\nThe free list, exactly as the Rust crate's Debug output prints it:")
    print(heap)
    print("\n" + repr(heap.stats()))

    print("\nThe integer API (no GC allocation at all, usable in interrupt handlers):")
    i = heap.allocate_blocks(2, 4)
    print("  allocate_blocks(2, align=4) -> block %d" % i)
    heap.deallocate_blocks(i, 2)
    try:
        heap.deallocate_blocks(i, 2)
    except ValueError as e:
        print("  freeing it twice -> ValueError: %s" % e)

    print("\nA chain: the fixed heap first, then the GC heap capped at 1 KiB:")
    chain = heap.chain(System(limit=1024))
    big = [chain.alloc(100) for _ in range(4)]
    where = ["heap" if heap.owns(v) else "System" for v in big]
    print("  4 x 100 bytes landed in: %s" % ", ".join(where))
    show("two fitted in the heap", heap)
    try:
        chain.alloc(900)
    except AllocError as e:
        print("  900 more bytes -> AllocError: %s" % e)
    for v in big:
        chain.free(v)
    with chain.scoped(64) as scratch:
        scratch[:5] = b"hello"
        print("  a scoped 64-byte buffer: %r, freed when the block ends" % bytes(scratch[:5]))
    for v in packets:
        if heap.owns(v):
            heap.free(v)
    heap.free(small)
    heap.check()
    show("everything freed, coalesced again", heap)
    print("  is_empty() = %s" % heap.is_empty())


main()
