# The board side of the demo (tools/demo.py) and of tests/cpython/test_board_fragmentation.py:
# a small embedded-style loop (a live set of packets, a big temporary now and then) that
# gets its buffers from bytearray(n) or from a Stalloc. MicroPython only; tools/demo.py
# generates the same request sequence on the host (requests(), checked against `reqsum`).
# Kept small: on a 64 KiB board every byte of this module's code is heap the loop lacks.
#
# The host compiles this file with mpy-cross and copies it, with the .mpy files of
# stalloc.heap and its dependencies, to a virtual board's /lib; then, through
# `mpremote exec`, it imports this module, takes the Stalloc's block, imports the library
# (or a ballast of its size), builds the Stalloc (if any) in that block, calls
#     frag_bench.main(mode, heap, ...)
# and parses what main() prints (tools/demo.py: PRELUDE, parse).
#
# The workload, the same request sequence in every mode (seeded 32-bit xorshift):
#   - a live set of `nslots` buffers; each iteration replaces a random one with a new
#     buffer of a random size drawn from `classes` ((percent, lo, hi), ...) and checks the
#     tags (first and last byte) of the one it replaces;
#   - every `every` iterations also a transient buffer of big[0]..big[1] bytes (a frame, a
#     file chunk), written and dropped in the same iteration.
# Modes:
#   "gc"     bytearray(n) for everything: the GC heap serves it, collects when full;
#   "int"    one Stalloc(L, B), the integer API, the data written through heap.memory,
#            the heap's one view of its data (offsets, no slicing);
#   "locked" "int" with micropython.heap_lock() held around the whole loop: any GC
#            allocation in it would raise MemoryError;
#   "bytes"  the same Stalloc through the byte API (alloc/free hand out memoryviews).
#
# The loop watches gc.mem_alloc() after every iteration. Memory only returns to the GC
# heap when a collection runs (MicroPython frees nothing by reference counting, and the
# loop makes no calls that free explicitly), so every drop of mem_alloc() is one
# collection (several back to back would count as one). Latency: time.ticks_us() around
# the iteration's allocation work (not around the mem_alloc() probe), kept as a worst case
# and as a histogram of bit lengths (bucket k counts 2**(k-1) <= us < 2**k), all in
# preallocated lists, so the bookkeeping allocates nothing itself.
#
# Output lines: "MEMINFO-START" + micropython.mem_info() before the loop (after a
# collection); "MEMINFO-END" + micropython.mem_info(1) after it, after a collection with
# the live set still held and before the Stalloc's check() and stats() load their modules
# (its "GC memory layout" lines draw the GC heap, one character per GC block, '.' free);
# "RESULT k=v ..."; "HIST c0 c1 ..."; "ERROR ..." if a MemoryError (or AllocError) ended
# it; "STATS ..." (heap.stats()) and "RUN index length" per free run for the Stalloc modes.

import gc
import time

import micropython


def _size(r, classes):
    p = r % 100
    for pct, lo, hi in classes:
        if p < pct:
            return lo + (r >> 8) % (hi - lo + 1)
        p -= pct
    return classes[-1][1]


def main(mode, heap, iters, nslots, classes, big, every, seed):
    """Run the workload in `mode` ("gc", "int", "locked", "bytes"); heap: the Stalloc
    (the caller builds it early, before the imports cut the GC heap up), None for "gc".
    The live set is freed at the end, so the heap is empty again."""
    mv = None
    B = 1
    if mode == "gc":
        assert heap is None
    else:
        B = heap.block_size
        mv = heap.memory  # the heap's one view of its data: the integer loop writes through it
    shift = 0
    while 1 << shift < B:
        shift += 1
    slots = [None] * nslots
    idx = [0] * nslots
    nbl = [0] * nslots
    tag = [0] * nslots
    live = [0] * nslots
    hist = [0] * 32
    blo = big[0]
    bspan = big[1] - big[0] + 1
    r = seed
    it = 0
    fail = -1
    drops = 0
    worst = worst_gc = total = 0
    live_bytes = peak_live = 0
    reqsum = 0  # of the requests made, so the host can check its replay
    err = ""
    gc.collect()
    print("MEMINFO-START")
    micropython.mem_info()
    a0 = prev = amax = gc.mem_alloc()
    integer = mode == "int" or mode == "locked"
    if mode == "locked":
        micropython.heap_lock()
    try:
        while it < iters:
            r ^= (r << 13) & 0xFFFFFFFF
            r ^= r >> 17
            r ^= (r << 5) & 0xFFFFFFFF
            j = r % nslots
            size = _size(r >> 5, classes)
            bsize = blo + (r >> 3) % bspan if it % every == 0 else 0
            reqsum = (reqsum * 31 + size * 8191 + bsize) & 0x3FFFFFF  # small int everywhere
            t = (it & 0x7F) + 1
            t0 = time.ticks_us()
            if integer:
                n = nbl[j]
                if n:
                    o = idx[j] << shift
                    if mv[o] != tag[j] or mv[o + live[j] - 1] != tag[j]:
                        raise RuntimeError("slot %d overwritten" % j)
                    heap.deallocate_blocks(idx[j], n)
                    nbl[j] = 0  # freed: if the next allocation fails, the clean-up skips it
                n = (size + B - 1) >> shift
                i = heap.allocate_blocks(n)
                o = i << shift
                mv[o] = t
                mv[o + size - 1] = t
                idx[j] = i
                nbl[j] = n
                if bsize:
                    n = (bsize + B - 1) >> shift
                    i = heap.allocate_blocks(n)
                    o = i << shift
                    mv[o] = t
                    mv[o + bsize - 1] = t
                    heap.deallocate_blocks(i, n)
            else:
                old = slots[j]
                if old is not None:
                    if old[0] != tag[j] or old[-1] != tag[j]:
                        raise RuntimeError("slot %d overwritten" % j)
                    if heap is not None:
                        heap.free(old)
                    slots[j] = old = None
                b = bytearray(size) if heap is None else heap.alloc(size)
                b[0] = t
                b[size - 1] = t
                slots[j] = b
                if bsize:
                    b = bytearray(bsize) if heap is None else heap.alloc(bsize)
                    b[0] = t
                    b[bsize - 1] = t
                    if heap is not None:
                        heap.free(b)
                b = None
            dt = time.ticks_diff(time.ticks_us(), t0)
            it += 1
            tag[j] = t
            live_bytes += size - live[j]
            live[j] = size
            if live_bytes > peak_live:
                peak_live = live_bytes
            total += dt
            if dt > worst:
                worst = dt
            k = 0
            while dt >> k:
                k += 1
            hist[k] += 1
            a = gc.mem_alloc()
            if a < prev:
                drops += 1
                if dt > worst_gc:
                    worst_gc = dt
            if a > amax:
                amax = a
            prev = a
    except MemoryError as e:  # AllocError is a MemoryError
        fail = it
        err = "%s: %s" % (type(e).__name__, e)
    finally:
        if mode == "locked":
            micropython.heap_unlock()
    a1 = gc.mem_alloc()
    f1 = gc.mem_free()
    gc.collect()  # the live set stays: the picture shows it and the holes between
    print("MEMINFO-END")
    micropython.mem_info(1)
    print(
        "RESULT mode=%s iters=%d fail=%d collections=%d worst_us=%d worst_gc_us=%d "
        "total_us=%d peak_live=%d alloc_start=%d alloc_max=%d alloc_end=%d free_end=%d reqsum=%d"
        % (mode, it, fail, drops, worst, worst_gc, total, peak_live, a0, amax, a1, f1, reqsum)
    )
    print("HIST " + " ".join(str(c) for c in hist))
    if err:
        print("ERROR " + err)
    if heap is not None:
        heap.check()
        print("STATS %r" % (heap.stats(),))
        for i, n in heap.free_runs():  # a few small objects: heap.map() would not fit
            print("RUN %d %d" % (i, n))
        for j in range(nslots):
            if integer and nbl[j]:
                heap.deallocate_blocks(idx[j], nbl[j])
            elif not integer and slots[j] is not None:
                heap.free(slots[j])
        heap.check()
        print("EMPTY %s" % heap.is_empty())
