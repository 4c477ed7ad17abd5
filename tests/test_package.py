# The package's lazy namespace (lib/stalloc/__init__.py): every public name resolves to
# its defining module, a program loads only the modules it uses, and unknown names fail as
# attribute errors. Portable: pytest on CPython, tools/upytest.py on MicroPython.

import sys

import stalloc

from _util import raises


def _fresh_import(statement):
    """Run `statement` against a freshly imported stalloc; return the stalloc modules it
    loaded. The modules loaded before are put back afterwards, so classes other tests hold
    stay the ones sys.modules names."""
    saved = {k: v for k, v in sys.modules.items() if k == "stalloc" or k[:8] == "stalloc."}
    for k in saved:
        del sys.modules[k]
    try:
        exec(statement, {})
        return sorted(k for k in sys.modules if k == "stalloc" or k[:8] == "stalloc.")
    finally:
        for k in [k for k in sys.modules if k == "stalloc" or k[:8] == "stalloc."]:
            del sys.modules[k]
        sys.modules.update(saved)


def test_every_public_name_resolves_to_its_module():
    assert len(stalloc.__all__) == len(stalloc._WHERE)
    for name in stalloc.__all__:
        value = getattr(stalloc, name)
        module = sys.modules["stalloc." + stalloc._WHERE[name]]
        assert getattr(module, name) is value, name
        assert name in dir(stalloc), name
    assert isinstance(stalloc.__version__, str)


def test_importing_the_package_loads_nothing_else():
    assert _fresh_import("import stalloc") == ["stalloc"]


def test_a_name_loads_only_what_it_needs():
    heap = _fresh_import("from stalloc import Stalloc")
    assert "stalloc.heap" in heap
    assert "stalloc.stack" not in heap and "stalloc.arena" not in heap
    stack = _fresh_import("from stalloc import buffer")
    assert "stalloc.stack" in stack
    assert "stalloc.heap" not in stack and "stalloc.arena" not in stack
    assert "stalloc._kernel" not in stack  # the stack needs no heap kernels of its own


def test_submodules_are_reachable_through_the_package():
    from stalloc import heap

    assert heap.Stalloc is stalloc.Stalloc
    from stalloc import _kernel

    assert _kernel is sys.modules["stalloc._kernel"]


def test_unknown_names_are_attribute_errors():
    raises(AttributeError, lambda: stalloc.no_such_name)
    assert not hasattr(stalloc, "no_such_name")
    assert not hasattr(stalloc, "__no_such_dunder__")
    # private names are module imports: a missing one is an ImportError, as for any import
    raises(ImportError, lambda: __import__("stalloc._no_such_module"))
    # a module this runtime lacks (_viper off MicroPython, or with STALLOC_PURE=1 and not
    # imported) is a plain missing attribute for getattr/hasattr
    assert hasattr(stalloc, "_viper") in (True, False)
    assert not hasattr(stalloc, "_no_such_module")
