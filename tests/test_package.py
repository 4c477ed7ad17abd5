# The package's lazy namespace (lib/stalloc/__init__.py): every public name resolves to
# its defining module, a program loads only the modules it uses, and unknown names fail as
# attribute errors. Portable: pytest on CPython, tools/upytest.py on MicroPython.

import gc
import sys

import stalloc

from _util import SkipTest, raises


def _fresh(fn):
    """fn(package) on a freshly imported stalloc; return (its result, the stalloc modules
    loaded). The modules loaded before are put back afterwards, so classes other tests hold
    stay the ones sys.modules names, and the fresh ones go (a small board has no room for
    the whole library twice)."""
    saved = {k: v for k, v in sys.modules.items() if k == "stalloc" or k[:8] == "stalloc."}
    for k in saved:
        del sys.modules[k]
    try:
        result = fn(__import__("stalloc"))
        return result, sorted(k for k in sys.modules if k == "stalloc" or k[:8] == "stalloc.")
    finally:
        for k in [k for k in sys.modules if k == "stalloc" or k[:8] == "stalloc."]:
            del sys.modules[k]
        sys.modules.update(saved)
        gc.collect()


def _fresh_import(statement):
    """Run `statement` against a freshly imported stalloc (see _fresh); return the stalloc
    modules it loaded."""
    return _fresh(lambda package: exec(statement, {}))[1]


def _where():
    # public name -> the submodule defining it, from the package's own table
    return {name: words[0] for words in stalloc._lines() for name in words[1:]}


def test_every_public_name_resolves_to_its_module():
    where = _where()
    assert sorted(stalloc.__all__) == sorted(where) and len(where) > 20
    # The package's own listing (MicroPython's dir() asks for every name it knows, loading
    # every module: test_dir_and_hasattr_work_on_every_build checks dir() on its own).
    listed = stalloc.__dir__()
    for name in stalloc.__all__:
        value = getattr(stalloc, name)
        module = sys.modules["stalloc." + where[name]]
        assert getattr(module, name) is value, name
        assert name in listed, name
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
    assert "stalloc.heap_native" not in stack  # the stack needs no heap kernels


def test_submodules_are_reachable_through_the_package():
    from stalloc import heap

    assert heap.Stalloc is stalloc.Stalloc
    from stalloc import _slow

    assert _slow is sys.modules["stalloc._slow"]


def test_unknown_names_are_attribute_errors():
    raises(AttributeError, lambda: stalloc.no_such_name)
    assert not hasattr(stalloc, "no_such_name")
    assert not hasattr(stalloc, "__no_such_dunder__")
    # private names are module imports: a missing one is an ImportError, as for any import
    raises(ImportError, lambda: __import__("stalloc._no_such_module"))
    # a module this runtime lacks (heap_native off MicroPython, or with STALLOC_PURE=1 and not
    # imported) is a plain missing attribute for getattr/hasattr
    assert hasattr(stalloc, "heap_native") in (True, False)
    assert not hasattr(stalloc, "_no_such_module")


def _table_modules():
    # The modules of the package as it lists them itself: the first word of each line of
    # its name table (stalloc._lines()), installed or not. No folder needed: frozen into
    # a firmware (most boards), the package has none.
    return [words[0] for words in stalloc._lines()]


def _folder_modules():
    # The modules in the package's folder (every stalloc/*.py or *.mpy), or None where it
    # has no folder: frozen, its __file__ is missing or names no file (MicroPython gives
    # a frozen module's path as if relative, or under .frozen/).
    try:
        import os

        f = stalloc.__file__
        os.stat(f)
    except (ImportError, AttributeError, OSError):
        return None
    if f.startswith(".frozen"):
        return None
    here = f[: max(f.rfind("/"), f.rfind("\\"))] or "."
    return [n.split(".")[0] for n in os.listdir(here) if n.endswith((".py", ".mpy"))]


def test_no_public_name_is_also_a_submodule():
    # Importing a submodule sets the package attribute of the same name: a public function
    # named like a module would turn into that module once the module is loaded.
    where = _where()
    for name in _table_modules() + (_folder_modules() or []):
        assert name not in where, "public name %r is also a module" % name


def test_the_name_table_lists_every_module_in_the_folder():
    # A module the table does not name is not a package attribute (and dir() misses it).
    # Frozen, the package has no folder: the table is its only listing.
    files = _folder_modules()
    if files is None:
        raise SkipTest("the package has no folder here (frozen into the firmware)")
    table = _table_modules()
    for name in files:
        assert name == "__init__" or name in table, "%s is not in stalloc's name table" % name


def test_every_alloca_name_stays_callable_whatever_is_used_first():
    # The reported case: stackalloc first (it loads the family's module), then alloca.
    # Only that module is loaded anew, so that a small board has room for the test.
    where = _where()
    module = "stalloc." + where["alloca"]
    family = [n for n in where if where[n] == where["alloca"]]
    saved = sys.modules.pop(module, None)
    cached = {n: stalloc.__dict__.pop(n) for n in family if n in stalloc.__dict__}
    try:
        assert stalloc.stackalloc(2, 0, len) == 2
        assert stalloc.alloca(33, len) == 33
        assert stalloc.alloca_zeroed(3, bytes) == bytes(3)
    finally:
        for n in family:
            stalloc.__dict__.pop(n, None)
        stalloc.__dict__.update(cached)
        if saved is not None:
            sys.modules[module] = saved


def test_dir_and_hasattr_work_on_every_build():
    # dir() (tab completion at the REPL) and hasattr() must not raise, also where a module
    # cannot load on this build (the native twins where there is no native emitter). On a
    # fresh package: MicroPython's dir() loads every module.
    _fresh(_dir_and_hasattr)


def _dir_and_hasattr(stalloc):
    names = dir(stalloc)
    assert "Stalloc" in names and "__version__" in names
    modules = _table_modules()
    for name in modules + ["_no_such_module"]:
        assert hasattr(stalloc, name) in (True, False)
    assert not hasattr(stalloc, "_no_such_module")
    # Every module the table names is a package attribute exactly where it loads: the
    # native twins need MicroPython's native emitter, _cpython CPython, _repoint
    # MicroPython, irq a board's package; stack, arena and trace may not be installed.
    for name in modules:
        reachable = hasattr(stalloc, name)  # through the package's __getattr__ if not loaded
        try:
            __import__("stalloc." + name)
            loads = True
        except (ImportError, SyntaxError, ValueError):
            loads = False
        assert reachable == loads, (name, reachable, loads)
