"""help() and dir() on CPython: every public method listed from the first import (not only
after first use, as on MicroPython, where realloc, scoped, chain and the diagnostics load
when first called), each with a docstring that says what it costs and how it fails, in
the user's terms rather than the library's internal ones."""

import inspect
import os
import re
import subprocess
import sys

import stalloc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Every public method of the block heap, the lazily loaded ones included.
HEAP_METHODS = (
    "allocate_blocks deallocate_blocks shrink_in_place grow_in_place grow_up_to is_oom "
    "is_empty clear alloc free realloc owns scoped chain check stats stats_into free_runs "
    "map map_into"
).split()
CLASSES = ("Stalloc", "SyncStalloc", "System", "AllocChain", "MemoryArena", "HeapStats")
# Words of the implementation that mean nothing to a user: native twins, the crate's defect
# numbers, module files.
JARGON = re.compile(r"Twin|_native|\(S\d\)|\bS\d\b|\b_?\w+\.py\b")


def _fresh(code):
    # Run code in a new interpreter that has only imported stalloc: nothing used yet.
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "lib"))
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_dir_and_help_list_every_method_before_first_use():
    # Before: help(stalloc.Stalloc) listed 11 methods; realloc, scoped, chain, stats, map,
    # check, free_runs, map_into appeared only once used.
    out = _fresh(
        "import pydoc, stalloc\n"
        "for name in ('Stalloc', 'SyncStalloc'):\n"
        "    print(name, *dir(getattr(stalloc, name)))\n"
        "print(pydoc.render_doc(stalloc.Stalloc, renderer=pydoc.plaintext))\n"
    )
    lines = out.splitlines()
    for line in lines[:2]:
        listed = line.split()
        missing = [m for m in HEAP_METHODS if m not in listed]
        assert not missing, (listed[0], missing)
    text = "\n".join(lines[2:])
    for m in HEAP_METHODS:
        assert re.search(r"^ \|  %s\(self" % m, text, re.M), m
    # the docstrings come with them: stats()'s, not an empty entry
    assert "A HeapStats snapshot" in text and "Resize a live view" in text


def _public_methods():
    for cname in CLASSES:
        cls = getattr(stalloc, cname)
        for name in dir(cls):
            fn = getattr(cls, name)
            if (not name.startswith("_") or name == "__init__") and callable(fn):
                if name == "__init__" and "__init__" not in vars(cls):
                    continue
                yield cname, name, fn
    yield "ArenaAllocator", "alloc", stalloc.arena.ArenaAllocator.alloc
    yield "ArenaAllocator", "put", stalloc.arena.ArenaAllocator.put
    yield "ArenaAllocator", "array", stalloc.arena.ArenaAllocator.array


def test_every_public_method_has_a_docstring_without_jargon():
    # Before: stats, map, check, free_runs, map_into and every SyncStalloc method had none,
    # and Stalloc's said "Twin: heap_native", "(S3)", "_repoint.py".
    for cname in CLASSES:
        doc = inspect.getdoc(getattr(stalloc, cname))
        assert doc and not JARGON.search(doc), (cname, JARGON.search(doc or "x"))
    for cname, name, fn in _public_methods():
        if name == "__init__":
            continue  # documented by the class
        doc = inspect.getdoc(fn)
        assert doc, "%s.%s has no docstring" % (cname, name)
        assert not JARGON.search(doc), (cname, name, JARGON.search(doc).group())


def test_heap_docstrings_state_cost_and_failure():
    # docs/api.md: every docstring states cost, failure and (where it applies) alignment.
    for cls in (stalloc.Stalloc, stalloc.SyncStalloc):
        for name in HEAP_METHODS:
            doc = " ".join(inspect.getdoc(getattr(cls, name)).split())
            where = "%s.%s" % (cls.__name__, name)
            assert "O(" in doc or "llocates" in doc or "alloc(" in doc, (where, "cost")
            assert "Error" in doc or "never fails" in doc.lower(), (where, "failure")
            if "align" in inspect.signature(getattr(cls, name)).parameters:
                assert "power of two" in doc or "alloc(" in doc, (where, "alignment")
