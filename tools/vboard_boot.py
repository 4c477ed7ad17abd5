# Boot module of the virtual board (tools/vboard.py). MicroPython only.
#
# tools/vboard.py starts `micropython -X heapsize=N -i -c "__import__('vboard_boot')"` with
# the disk image open as descriptor VBOARD_DISK_FD (a file the host keeps for the board's
# whole life, so that every reset boots on the same disk). This module makes the unix port
# look like a board with flash:
#
#   1. opens the image by its descriptor;
#   2. unmounts the host filesystem (VfsPosix at "/"): from here on nothing on the board
#      can reach the host tree;
#   3. mounts LittleFS2 at "/" on a block device whose blocks are the image's bytes
#      (formatting the image first when it is blank), makes "/lib", changes to "/", sets
#      sys.path to ["/lib", "", ".frozen"] and prints the ready line tools/vboard.py waits
#      for;
#   4. becomes `machine` (sys.modules["machine"]): the built-in's functions through
#      __getattr__, plus reset(), which the unix port lacks. Imported rather than run as
#      __main__, it leaves the REPL's globals empty, as on a board; boot() is deleted once
#      run and the constants are underscored const()s, so what stays in the heap is the
#      block device's class and these two functions (the board has about 64 B more GC heap
#      free at the prompt than when this module was __main__ and had no reset()).
#
# Why a file and not a bytearray: a RAM block device's buffer is a GC object, and a board
# started with -X heapsize=64k cannot allocate a 96-128 KiB bytearray at all (and a disk
# small enough to fit would take the heap the program under test is meant to have). Here
# the filesystem costs the GC heap about 2.4 KiB for good (this module, the block-device
# object, LittleFS2's caches and the open image file) plus the temporaries of each block
# transfer, about what a real board's flash driver costs.
#
# The block device is Python code run by the board's VM, so filesystem operations allocate
# small temporaries (a real board's flash driver is C): keep file I/O out of code that
# runs with micropython.heap_lock().

import sys

import machine as _machine  # the built-in: no machine.py is on the boot path
from micropython import const

# Underscored consts are not globals: nothing left of them in the heap (the module stays,
# as `machine`).
_BLOCK_SIZE = const(4096)  # like the flash erase block of rp2 and esp32 boards
_HARD_RESET = const(0x48)  # the exit status tools/vboard.py reads as a hard reset


def reset():
    # machine.reset(). The unix port cannot reset itself: end the process with a status
    # that tells the host to boot a new one on the same disk, in the friendly REPL as after
    # power-on. (SystemExit: board code that catches it stops the reset, unlike on a board.)
    sys.exit(_HARD_RESET)


def __getattr__(name):  # the rest of machine: the built-in's
    return getattr(_machine, name)


class FileBlockDev:
    """Extended block-device protocol (readblocks/writeblocks with an offset) over a file."""

    def __init__(self, fd, block_size):
        self.f = open(fd, "r+b")  # the unix port opens a descriptor number as a file
        self.block_size = block_size
        self.blocks = self.f.seek(0, 2) // block_size

    def readblocks(self, block, buf, offset=0):
        self.f.seek(block * self.block_size + offset)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, offset=0):
        self.f.seek(block * self.block_size + offset)
        self.f.write(buf)

    def ioctl(self, op, arg):
        if op == 4:  # number of blocks
            return self.blocks
        if op == 5:  # block size
            return self.block_size
        return 0  # init, deinit, sync, erase: nothing to do for a file


def boot():
    import os

    import vfs

    # the image, open in tools/vboard.py, by the descriptor number it passes
    bdev = FileBlockDev(int(os.getenv("VBOARD_DISK_FD")), _BLOCK_SIZE)
    try:
        vfs.umount("/")
    except OSError:
        pass  # nothing mounted at "/" (a build without VfsPosix)
    try:  # an image from an earlier boot keeps its files, like flash
        vfs.mount(vfs.VfsLfs2(bdev), "/")
    except OSError:  # a blank image: format it
        vfs.VfsLfs2.mkfs(bdev)
        vfs.mount(vfs.VfsLfs2(bdev), "/")
    try:
        os.mkdir("/lib")
    except OSError:
        pass  # kept from an earlier boot
    os.chdir("/")
    sys.path[:] = ["/lib", "", ".frozen"]
    # tools/vboard.py waits for this line: an exception above does not stop `micropython -i`
    # (it prints the traceback and starts the REPL on the host filesystem), so no line, no
    # board.
    info = (bdev.blocks, _BLOCK_SIZE)
    print("vboard_boot: ready, LittleFS2 at / (%d blocks of %d bytes)" % info)


boot()
del boot  # run once: its code is garbage now
sys.modules["machine"] = sys.modules.pop(__name__)
__import__("gc").collect()  # (no `gc` global left behind in machine)
