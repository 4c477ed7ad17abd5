# Boot module of the virtual board (tools/vboard.py). MicroPython only.
#
# tools/vboard.py starts `micropython -X heapsize=N -i -m vboard_boot` in a private
# temporary directory holding one file, DISK: a zero-filled (sparse) disk image. This module
# makes the unix port look like a board with flash:
#
#   1. opens DISK while the host filesystem is still mounted;
#   2. unmounts the host filesystem (VfsPosix at "/"): from here on nothing on the board
#      can reach the host tree;
#   3. mounts LittleFS2 at "/" on a block device whose blocks are DISK's bytes (formatting
#      the image first when it is blank), makes "/lib", changes to "/", sets sys.path to
#      ["/lib", "", ".frozen"] and prints the ready line tools/vboard.py waits for.
#
# Why a file and not a bytearray: a RAM block device's buffer is a GC object, and a board
# started with -X heapsize=64k cannot allocate a 96-128 KiB bytearray at all (and a disk
# small enough to fit would take the heap the program under test is meant to have). Here
# the filesystem costs the GC heap about 2.4 KiB for good (this module, the block-device
# object, LittleFS2's caches and the open image file) plus the temporaries of each block
# transfer, about what a real board's flash driver costs. tools/vboard.py deletes the
# image's directory once the board is up; the open file keeps the data until the board
# exits.
#
# The block device is Python code run by the board's VM, so filesystem operations allocate
# small temporaries (a real board's flash driver is C): keep file I/O out of code that
# runs with micropython.heap_lock().

import gc
import os
import sys

import vfs

DISK = "vboard-disk.img"  # relative to the working directory tools/vboard.py sets
BLOCK_SIZE = 4096  # like the flash erase block of rp2 and esp32 boards


class FileBlockDev:
    """Extended block-device protocol (readblocks/writeblocks with an offset) over a file."""

    def __init__(self, path, block_size):
        self.f = open(path, "r+b")
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
    bdev = FileBlockDev(DISK, BLOCK_SIZE)
    try:
        vfs.umount("/")
    except OSError:
        pass  # nothing mounted at "/" (a build without VfsPosix)
    try:  # a kept image (VirtualBoard(disk=...)) boots with its files, like flash
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
    print("vboard_boot: ready, LittleFS2 at / (%d blocks of %d bytes)" % (bdev.blocks, BLOCK_SIZE))


boot()
gc.collect()
