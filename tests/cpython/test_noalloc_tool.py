# tools/noalloc.py (`stalloc-noalloc`): a user's function checked on the unix port from the
# host, through stalloc.noalloc(). Exit status and output for a function that allocates
# nothing, one that allocates (file and line named), and every bad input.
import os
import sys

import noalloc as N  # tools/noalloc.py (tests/conftest.py puts tools/ on sys.path)

APP = """\
buf = bytearray(16)


def clean():
    buf[0] = 1
    return len(buf)


def slices():
    return buf[2:4]


def floats():
    return buf[0] * 0.5
"""


def _app(tmp_path):
    path = tmp_path / "app.py"
    path.write_text(APP)
    return str(path)


def test_a_function_that_allocates_nothing_passes(tmp_path, capsys):
    assert N.main([_app(tmp_path) + ":clean"]) == 0
    assert capsys.readouterr().out.strip().endswith(":clean allocates nothing: 16")


def test_an_allocation_is_named_with_its_file_and_line(tmp_path, capsys):
    app = _app(tmp_path)
    for name, line in (("slices", 10), ("floats", 14)):
        assert N.main([app + ":" + name]) == 1
        out = capsys.readouterr().out
        assert (
            '%s allocates on the GC heap: first at File "%s", line %d, in %s'
            % (
                name,
                app,
                line,
                name,
            )
            in out
        ), out


def test_a_module_found_through_path(tmp_path, capsys):
    _app(tmp_path)
    assert N.main(["app:clean", "--path", str(tmp_path)]) == 0


def test_bad_input_is_one_error_line_and_status_2(tmp_path, capsys):
    app = _app(tmp_path)
    for argv in (
        [app + ":missing"],  # no such function
        ["no_such_module_here:f"],
        ["nocolon"],
        ["a-b:f"],  # not a module name
        [app + ":clean", "--micropython", os.path.join(str(tmp_path), "none")],
    ):
        assert N.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)


def test_the_command_runs_from_a_checkout(tmp_path):
    import subprocess

    tool = os.path.join(os.path.dirname(N.__file__), "..", "noalloc.py")
    proc = subprocess.run(
        [sys.executable, tool, _app(tmp_path) + ":slices"], capture_output=True, text=True
    )
    assert proc.returncode == 1 and "line 10, in slices" in proc.stdout, proc
