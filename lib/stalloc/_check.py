# Argument checks shared by the allocators, in a module of their own: the block heap's
# fast paths check nothing this way (its slow paths, _slow.py, do), so a program that
# only uses a Stalloc and never errs does not load them.

if isinstance(True, int):

    def is_int(x):
        return isinstance(x, int)

else:  # MicroPython: bool is not an int subclass there, but behaves as 0 and 1

    def is_int(x):
        return isinstance(x, int) or x is True or x is False


def check_count(value, what, least=1):
    # A size or count: an int (bools count, as in CPython) >= least; else TypeError or
    # ValueError naming the argument.
    if not is_int(value):
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__))
    if value < least:
        raise ValueError("%s must be >= %d, got %d" % (what, least, value))
    return value


def check_align(align):
    # An alignment: a power of two >= 1.
    check_count(align, "align")
    if align & (align - 1):
        raise ValueError("align must be a power of two, got %d" % align)
    return align


_READY = True  # see _base.load()
