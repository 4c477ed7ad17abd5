# What to do when a module of stalloc could not be imported for want of GC heap: loaded
# by _base.load() only then, so a program that imports fine never holds this text.
# Compiling a .py source needs far more free heap than the module keeps (the parser's
# and compiler's transient memory); a .mpy, a ROMFS image or a frozen module skip that.

import gc


def advise(full):
    """The MemoryError for the module `full` of stalloc failing to import."""
    gc.collect()  # what the failed import made is garbage now: count what the board has
    free = "%d KiB of free GC heap" % (gc.mem_free() // 1024)
    # Installed as this module is: a frozen module's file is "stalloc/_advice.py", a file
    # on the board's filesystem has its folder before it ("/lib/stalloc/_advice.py").
    f = __file__
    if f[-3:] == ".py" and f != "stalloc/_advice.py" and f[:7] != ".frozen":
        why = "is not enough to compile %s from its .py source: install the prebuilt .mpy"
        why += " for this board's arch, a ROMFS image or freeze it"
    else:
        why = "is not enough to load %s"
    return MemoryError(
        "stalloc: %s %s (docs/boards.md: the free GC heap each entry point needs)"
        % (free, why % full)
    )


_READY = True  # see _base.load()
