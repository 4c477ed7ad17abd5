"""The host tools of stalloc for Python, installed with the wheel (its `tools` extra adds
rich and matplotlib, which the table and the pictures need: EXTRA says how to install it):

    stalloc-trace   heaptrace.py: parse a trace, replay it on the real Stalloc, summarise it
    stalloc-plan    plan.py: the smallest heap for a trace, next to the worst-case bounds
    stalloc-viz     heapviz.py: heap maps, stack strips and replay plots as PNG or SVG
    stalloc-noalloc noalloc.py: check that a function allocates nothing, on the unix port

In a checkout the same commands are `python tools/heaptrace.py`, `tools/plan.py`,
`tools/heapviz.py` and `tools/noalloc.py` (each a few lines that run the module here).
Host only: nothing here runs on MicroPython (noalloc runs the unix port), and lib/stalloc
imports nothing from it.

Every command exits 0 when it did its work, 2 for bad input (a missing or malformed file,
a bad option; one `error:` line on stderr, as argparse does for usage errors) or a missing
extra, 4 (UNFIT) when a trace is whole but cannot support the answer (the planner refuses
it; a replay of a recording that dropped calls is printed with one `warning:` line), 1 for
anything else (130 for Ctrl-C); on a terminal a long run shows its progress on stderr.
"""

import functools
import importlib.util
import os
import sys

from stalloc import __version__

# How to install the tools extra. No package index has stalloc: it comes from a checkout or
# from the wheel tools/release.py builds (dist/), so the hint names those, not a name.
EXTRA = (
    "pip install '.[tools]' in a checkout, "
    "pip install 'stalloc-%s-py3-none-any.whl[tools]' with the wheel" % __version__
)


def error(message):
    """Print `error: MESSAGE` on stderr as one line; return 2, the tools' exit status for
    a bad input file or option."""
    sys.stderr.write("error: %s\n" % " ".join(str(message).split()))
    sys.stderr.flush()
    return 2


UNFIT = 4  # exit status: the trace cannot support the answer (see the module docstring)


def warn(message):
    """Print `warning: MESSAGE` on stderr as one line."""
    sys.stderr.write("warning: %s\n" % " ".join(str(message).split()))
    sys.stderr.flush()


def missing(*modules):
    """The names among `modules` that cannot be imported (not installed)."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


def install(*modules):
    """How to install `modules` (each a distribution of the same name): alone, or with the
    tools extra."""
    return "pip install %s, or the tools extra (%s)" % (" ".join(modules), EXTRA)


def need(what, *modules):
    """None when every module of `modules` is installed; else print one `error:` line
    saying that `what` needs them and how to install them, and return 2."""
    absent = missing(*modules)
    if not absent:
        return None
    return error("%s needs %s, not installed: %s" % (what, " and ".join(absent), install(*absent)))


def command(main):
    """Decorate a command's main(argv=None): its return value is the exit status, and the
    conventional endings of a command line tool are not tracebacks: output into a closed
    pipe (`stalloc-plan t.trace | head -3`) ends it quietly with 1, Ctrl-C with 130."""

    @functools.wraps(main)
    def run(argv=None):
        try:
            code = main(argv)
            sys.stdout.flush()  # a closed pipe shows here, while it can still be handled
            return code
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no 2nd error
            return 1
        except KeyboardInterrupt:
            sys.stderr.write("\n")
            return 130

    return run


class Progress:
    """One line of progress on stderr, shown only when stderr is a terminal: rewritten in
    place (cut to the terminal's width, so that it never wraps), wiped by wipe() or at the
    end of a `with` block. Elsewhere (a pipe, a file, a test) it writes nothing.

        with Progress("plan") as show:
            show("replay 3 on 64 blocks")          # plan: replay 3 on 64 blocks
            show.bar(40, 100, "replay")            # plan: replay [#####.......]  40% 40/100
    """

    WIDTH = 24  # characters of a bar

    def __init__(self, name, stream=None):
        self.name = name
        self.stream = sys.stderr if stream is None else stream
        try:
            self.on = self.stream.isatty()
        except (AttributeError, ValueError):
            self.on = False
        self.shown = False

    def __call__(self, text):
        if not self.on:
            return
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns - 1
        except (OSError, ValueError):
            width = 0
        if width < 20:  # unknown (a new pty says 0 columns), or too narrow to bother
            width = 79
        self.stream.write("\r\033[K" + ("%s: %s" % (self.name, text))[:width])
        self.stream.flush()
        self.shown = True

    def bar(self, done, total, text=""):
        """Show `text [####....] NN% done/total`."""
        if not self.on:
            return
        total = max(1, total)
        filled = self.WIDTH * done // total
        head = text + " " if text else ""
        line = "#" * filled + "." * (self.WIDTH - filled)
        self("%s[%s] %3d%% %d/%d" % (head, line, 100 * done // total, done, total))

    def wipe(self):
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.wipe()
        return False
