"""tools/footprint.py: each entry point's RAM cost on MicroPython, against its budget.

Memory on MicroPython is deterministic (same build, same port, same bytes), so the
budgets in tools/footprint_budget.json are tests: an entry point that keeps more than
its budget on the 32-bit port (WebAssembly), the 64-bit unix port or the unix port
running from a ROMFS image fails here. The README's table is this tool's output.
"""

import json
import os

import pytest

import footprint  # tools/footprint.py (tests/conftest.py puts tools/ on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def measured():
    return footprint.measure()


@pytest.fixture(scope="module")
def budget():
    with open(footprint.BUDGET) as f:
        return json.load(f)


def test_every_entry_point_keeps_within_its_budget(measured, budget):
    assert footprint.check(measured, budget) == [], footprint.table(measured)


def test_the_view_pool_costs_at_most_2_kib_on_a_32_bit_port(measured):
    # The byte API's zero-GC views (4 pooled views and the module that repoints them)
    # against the same heap making fresh views.
    row = measured["wasm32"]
    # (2.5 KiB since views move at any address: each owner's box, the probe of it.)
    assert 0 < row["Stalloc, both APIs used"] - row["Stalloc, both APIs, views=0"] <= 2560


def test_each_entry_point_pays_for_itself_only(measured):
    # The block heap's path loads no lock, stack, arena or diagnostics: every other
    # entry point that adds a module keeps more than the heap alone.
    for runtime, row in measured.items():
        heap = row["Stalloc, both APIs used"]
        assert row["import stalloc"] < row["Stalloc, imported"] < heap, runtime
        for name in ("diagnostics", "SyncStalloc", "AllocChain + System", "TraceRecorder"):
            assert row[name] > heap, (runtime, name)
        assert row["everything"] == max(row.values()), runtime


def test_a_heap_keeps_little_beyond_its_bytearray(measured):
    # What stats().footprint does not count (the heap object, its attributes, its view
    # table), reported in the README and the Stalloc docstring: under 640 bytes on a
    # 32-bit port, and the same objects (twice the words) on the 64-bit one; its 4 pooled
    # views included, so that a live view costs nothing more.
    for runtime, limit in (("wasm32", 640), ("unix64", 1152)):
        assert measured[runtime]["a Stalloc(1024, 16) beyond its bytearray"] < limit, runtime
        assert measured[runtime]["a live view of alloc(16)"] == 0, runtime


def test_the_readme_table_is_the_tools_output(measured):
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    want = footprint.readme_with(text, footprint.table(measured, markdown=True))
    assert text == want, "README.md's footprint table is stale: python tools/footprint.py --readme"


def test_check_names_what_is_over_or_unbudgeted():
    results = {"wasm32": {"a": 100, "b": 200, "c": 5}}
    over = footprint.check(results, {"wasm32": {"a": 100, "b": 199}})
    assert over == [
        "wasm32: b keeps 200 bytes, budget 199",
        "wasm32: c has no budget (kept 5 bytes)",
    ]


def test_budgets_cover_every_entry_point_and_runtime(budget):
    names = [e[0] for e in footprint.ENTRY_POINTS + footprint.OBJECTS]
    for runtime in footprint.RUNTIMES:
        assert sorted(budget[runtime]) == sorted(names), runtime
        assert all(type(v) is int and v > 0 for v in budget[runtime].values()), runtime
