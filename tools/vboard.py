"""A virtual MicroPython board: the unix port behind a pseudo-terminal, for mpremote.

    with VirtualBoard(heapsize="64k") as board:
        board.mpremote("cp", "lib/stalloc/heap.py", ":lib/")
        print(board.mpremote("exec", "import gc; print(gc.mem_free())").stdout)

    python tools/vboard.py --heapsize 64k      # prints the port, serves until Ctrl-C
    mpremote connect /dev/pts/N resume exec "print(1)"

`mpremote connect <board.port> resume ...` talks to it exactly as to a USB board: raw REPL,
raw paste, `exec`, `eval`, `run`, `cp`, `ls`, `df`, `mount`. Always pass `resume`
(`VirtualBoard.mpremote` does): without it mpremote soft-resets the board with Ctrl-D, and
on the unix port that ends the process (so does `sys.exit()` in board code). The board then
stays dead: the port hangs up (a connected mpremote fails at once rather than waiting),
`alive` turns False and the next `mpremote()` call raises `BoardError`. Nor can Ctrl-C
interrupt running code (see `mpremote()`). Unlike a board, a command that times out
leaves the board busy: close it and start another.

How it is wired (pure Python, no socat; tested on Linux):

    mpremote --- /dev/pts/N (pty B) === relay thread === pty A --- micropython
                 `port`                 in this process        stdin/stdout/stderr

  - `micropython -X heapsize=N -i -m vboard_boot` runs in its own session, with the slave
    of pty A as stdin/stdout/stderr and as its controlling terminal, in socat's `rawer`
    mode (raw, no echo, no CR/LF mapping: `onlcr=0`). Because A is its controlling
    terminal, the kernel hangs A up and sends the board SIGHUP whenever this process dies,
    even by SIGKILL and even while the board is busy: no orphaned `micropython` survives.
    A one-line Python shim (TIOCSCTTY, then exec) makes A the controlling terminal: a
    `preexec_fn` would do it too, but is unsafe in a process with threads.
  - A daemon thread relays bytes between the masters of A and B (select, non-blocking
    writes, at most 64 KiB queued each way: a board that prints with nobody reading
    blocks, as with hardware flow control). This process keeps B's slave open itself, so B
    survives mpremote closing it; pyserial flushes stale input when it opens the port. When
    the board exits, the relay closes B.
  - `start()` returns once the board printed vboard_boot's ready line and the REPL prompt,
    then deletes the temporary directory (the board keeps the disk image open; the kernel
    frees it when the board exits). `close()`, also on exceptions inside `with`, stops the
    relay, sends SIGTERM, then SIGKILL, to the board's process group, reaps it and closes
    every descriptor.

The board's filesystem: a LittleFS2 volume at "/" on a block device whose blocks are the
bytes of a disk image file (1 MiB by default, sparse, 4 KiB blocks), so the disk is never
in the GC heap. `vboard_boot` opens the image, unmounts the host VFS, formats and mounts
LittleFS2 at "/", creates "/lib" and puts it first on `sys.path`. Why not a bytearray RAM
disk: a 96-128 KiB bytearray cannot be allocated in a 64 KiB GC heap at all, and a disk
small enough to fit would take most of the heap the code under test is meant to have. Why
not VfsPosix on a temporary directory: it would work, but `df`/`statvfs` would report the
host's disk, "/.." walks out of the directory into the host tree, and errors and limits
would be a PC's, not those of the LittleFS2 that rp2 and esp32 boards use. With the image
the filesystem costs the board about 2.4 KiB of GC heap (the boot module, the block-device
object, LittleFS2's caches: after `gc.collect()`, `gc.mem_free()` is about 60.3 kB here
against 62.7 kB in a bare `micropython -X heapsize=64k`), roughly what a real board's flash
driver costs; `mpremote cp` goes through LittleFS2 as on a board; and nothing reaches the
host tree or the caller's working directory (the board runs in the private directory and
the host VFS is gone before the first command arrives).

Executables are looked up next to `sys.executable` first (the virtualenv's bin), then on
PATH.
"""

import argparse
import errno
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty

TOOLS = os.path.dirname(os.path.abspath(__file__))
BOOT_MODULE = "vboard_boot"  # tools/vboard_boot.py
DISK_IMAGE = "vboard-disk.img"  # the name vboard_boot opens, in the board's working dir
DISK_BLOCK = 4096  # vboard_boot.BLOCK_SIZE
BOOT_MARKER = b"vboard_boot: ready"  # printed by vboard_boot once "/" is LittleFS2
PROMPT = b">>> "  # then the friendly REPL is up
_QUEUE_MAX = 64 * 1024  # bytes buffered per direction before the relay stops reading
_TRANSCRIPT_MAX = 16 * 1024  # tail of the board's output kept for error messages

# Runs in the child between fork and the board: makes pty A (its stdin, in a new session)
# the controlling terminal, then becomes micropython. Pure Python and thread-safe, unlike
# a preexec_fn; costs one short interpreter start.
_CTTY_SHIM = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


class BoardError(RuntimeError):
    """The virtual board did not start, or is no longer running."""


class MpremoteError(subprocess.CalledProcessError):
    """mpremote exited non-zero; the message includes what it printed."""

    board = ""  # what the board printed last, when it exited during the command

    def __str__(self):
        text = "%s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            super().__str__(),
            self.stdout or "",
            self.stderr or "",
        )
        if self.board:
            text += "\n--- the board exited; its last output ---\n%s" % self.board
        return text


def find_tool(name):
    """Path of executable `name`: next to sys.executable (the venv's bin), else on PATH."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(
            "`%s` is neither next to %s nor on PATH; install the dev dependencies "
            "(tools/test.sh sets up .venv)" % (name, sys.executable)
        )
    return path


def parse_size(size):
    """Bytes in `size`: an int, or a string like "65536", "64k", "2M" (powers of 1024)."""
    if isinstance(size, int) and not isinstance(size, bool):
        n = size
    else:
        m = re.fullmatch(r"\s*(\d+)\s*([kKmM]?)\s*", str(size))
        if not m:
            raise ValueError("bad size %r: expected bytes, or a number with k or M" % (size,))
        n = int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]
    if n <= 0:
        raise ValueError("size must be positive, got %r" % (size,))
    return n


def _rawer(fd):
    """socat's `rawer` on tty `fd`: raw, no echo, no signals, no CR/LF mapping either way."""
    tty.setraw(fd, termios.TCSANOW)


class VirtualBoard:
    """The MicroPython unix port behind a pseudo-terminal that mpremote can open.

    heapsize: the GC heap (`-X heapsize`), bytes or "64k"-style. disk_size: the LittleFS2
    volume at "/" (4 KiB blocks, kept in a temporary file, not in the heap). disk: a path
    to keep the volume in instead, as a board keeps its flash across resets: a second
    VirtualBoard on the same path boots with the files the first one left. An absent or
    empty file is made disk_size bytes; an existing image keeps its size. An image that
    does not mount as LittleFS2 (blank, or damaged) is formatted, as boards do at boot.
    micropython/mpremote: executables, found with `find_tool` when None. start_timeout:
    seconds to wait for the REPL prompt. Use as a context manager, or call start() and
    close() yourself.
    """

    def __init__(
        self,
        heapsize="64k",
        *,
        disk_size="1M",
        disk=None,
        micropython=None,
        mpremote=None,
        start_timeout=15.0,
    ):
        self.heapsize = parse_size(heapsize)
        self.disk_size = parse_size(disk_size)
        if self.disk_size % DISK_BLOCK or self.disk_size < 2 * DISK_BLOCK:
            raise ValueError("disk_size must be a multiple of 4 KiB, at least 8 KiB (LittleFS2)")
        self.start_timeout = start_timeout
        self.disk = None if disk is None else os.path.abspath(disk)
        self._micropython = micropython
        self._mpremote = mpremote
        self.port = None  # the path mpremote opens, e.g. /dev/pts/7
        self._workdir = None  # private temporary directory: the board's cwd and disk image
        self._proc = None
        self._fds = []  # every descriptor this object owns, closed by close()
        self._fd_lock = threading.Lock()
        self._board_fd = self._host_fd = self._holder_fd = None
        self._wake_r = self._wake_w = None
        self._thread = None
        self._cond = threading.Condition()
        self._transcript = bytearray()
        self._board_open = False
        self._relay_error = None
        self._closed = False

    # -- life cycle ----------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        """Start the board and return once its REPL prompt appears. Raises BoardError."""
        if self._proc is not None or self._closed:
            raise BoardError("a VirtualBoard starts once")
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self):
        micropython = self._micropython or find_tool("micropython")
        self._workdir = tempfile.mkdtemp(prefix="vboard-")
        image = os.path.join(self._workdir, DISK_IMAGE)
        if self.disk is None:
            with open(image, "wb") as f:
                f.truncate(self.disk_size)  # sparse zeros, formatted by vboard_boot
        else:
            if not os.path.exists(self.disk) or os.path.getsize(self.disk) == 0:
                with open(self.disk, "wb") as f:  # a new image (or an empty file: mkstemp)
                    f.truncate(self.disk_size)
            os.symlink(self.disk, image)  # the board opens it before the host VFS goes

        self._board_fd, board_slave = self._openpty()  # pty A: the board's console
        self._host_fd, self._holder_fd = self._openpty()  # pty B: what mpremote opens
        _rawer(board_slave)
        _rawer(self._holder_fd)
        self.port = os.ttyname(self._holder_fd)
        self._wake_r, self._wake_w = os.pipe()
        self._fds += [self._wake_r, self._wake_w]
        for fd in (self._board_fd, self._host_fd, self._wake_r, self._wake_w):
            os.set_blocking(fd, False)

        env = dict(os.environ, MICROPYPATH=TOOLS)
        env.pop("MICROPYINSPECT", None)
        cmd = [sys.executable, "-I", "-S", "-c", _CTTY_SHIM, micropython]
        cmd += ["-X", "heapsize=%d" % self.heapsize, "-i", "-m", BOOT_MODULE]
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=board_slave,
                stdout=board_slave,
                stderr=board_slave,
                cwd=self._workdir,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            self._close_fd(board_slave)  # only the board holds it: its exit hangs A up
        self._board_open = True
        self._thread = threading.Thread(target=self._relay, name="vboard-relay", daemon=True)
        self._thread.start()

        deadline = time.monotonic() + self.start_timeout
        with self._cond:
            while PROMPT not in self._transcript:
                left = deadline - time.monotonic()
                if not self._board_open or left <= 0:
                    what = "exited" if not self._board_open else "gave no prompt in time"
                    raise BoardError("virtual board %s; it printed:\n%s" % (what, self._text()))
                self._cond.wait(left)
            if BOOT_MARKER not in self._transcript:  # a REPL on the host filesystem: refuse
                raise BoardError("vboard_boot failed; the board printed:\n%s" % self._text())
        # The board holds the image open and no longer sees the host filesystem: remove
        # the directory now, so that nothing is left behind even if this process is killed.
        shutil.rmtree(self._workdir, ignore_errors=True)

    def close(self):
        """Stop the relay and the board, close every descriptor, delete the temp dir."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass
            self._thread.join(10)
        proc = self._proc
        if proc is not None:
            for sig, grace in ((signal.SIGTERM, 3), (signal.SIGKILL, 10)):
                if proc.poll() is not None:
                    break
                try:
                    os.killpg(proc.pid, sig)  # its own session: the board and anything it ran
                except (ProcessLookupError, PermissionError):
                    proc.send_signal(sig)
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    pass
        for fd in list(self._fds):
            self._close_fd(fd)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def _openpty(self):
        master, slave = os.openpty()
        self._fds += [master, slave]
        return master, slave

    def _close_fd(self, fd):
        with self._fd_lock:  # the relay thread closes pty B when the board exits
            if fd not in self._fds:
                return
            self._fds.remove(fd)
        try:
            os.close(fd)
        except OSError:
            pass

    # -- state ---------------------------------------------------------------------------

    @property
    def pid(self):
        """Process id of the board (None before start)."""
        return None if self._proc is None else self._proc.pid

    @property
    def alive(self):
        """True while the board process runs and the relay serves it."""
        proc = self._proc
        return proc is not None and self._board_open and not self._closed and proc.poll() is None

    def wait(self, timeout=None):
        """Wait until the board stops (or timeout seconds); return True if it has."""
        with self._cond:
            self._cond.wait_for(lambda: not self._board_open, timeout)
            return not self._board_open

    def transcript(self):
        """The last 16 KiB the board printed (text), for diagnostics."""
        with self._cond:
            return self._text()

    def _text(self):
        return bytes(self._transcript).decode("utf-8", "replace")

    # -- mpremote ------------------------------------------------------------------------

    def mpremote(self, *args, check=True, timeout=60.0, cwd=None):
        """Run `mpremote connect <port> resume <args...>`; return the CompletedProcess.

        stdout/stderr are text; cwd: where mpremote runs (local paths in `cp`, `run`).
        check: raise MpremoteError on a non-zero exit. timeout: seconds, then mpremote is
        killed and subprocess.TimeoutExpired raised. The board goes on with what it was
        running: unlike a board, the unix port cannot be interrupted by Ctrl-C over its
        terminal (it keeps the tty raw; only SIGINT would, and that kills it when idle), so
        after a timeout close the board. Raises BoardError if the board is not running.
        """
        if not self.alive:
            raise BoardError(
                "virtual board is not running (closed, or it exited: a soft reset without "
                "`resume`, or sys.exit()); it printed:\n%s" % self.transcript()
            )
        mpremote = self._mpremote or find_tool("mpremote")
        cmd = [mpremote, "connect", self.port, "resume", *(str(a) for a in args)]
        result = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            cwd=cwd,
        )
        if check and result.returncode != 0:
            err = MpremoteError(result.returncode, cmd, result.stdout, result.stderr)
            if not self.alive:
                err.board = self.transcript()
            raise err
        return result

    # -- the relay -----------------------------------------------------------------------

    def _relay(self):
        board, host, wake = self._board_fd, self._host_fd, self._wake_r
        to_board = bytearray()
        to_host = bytearray()
        try:
            while True:
                rlist = [wake]
                if len(to_board) < _QUEUE_MAX:
                    rlist.append(host)
                if len(to_host) < _QUEUE_MAX:
                    rlist.append(board)
                wlist = [fd for fd, queue in ((board, to_board), (host, to_host)) if queue]
                readable, writable, _ = select.select(rlist, wlist, [])
                if wake in readable:
                    return
                if board in readable:
                    data = _read(board)
                    if data == b"":
                        break  # the board exited
                    if data:
                        to_host += data
                        self._record(data)
                if host in readable:
                    to_board += _read(host) or b""
                if board in writable:
                    try:
                        del to_board[: _write(board, to_board)]
                    except OSError:
                        break  # the board exited
                if host in writable:
                    del to_host[: _write(host, to_host)]
            # The board is gone: pass on what it printed last, then hang pty B up, so that a
            # connected mpremote fails at once instead of waiting for bytes forever.
            _write(host, to_host)
        except Exception as e:
            self._relay_error = e
            self._record(b"\n[vboard relay failed: %r]\n" % (e,))
        finally:
            self._close_fd(self._host_fd)
            self._close_fd(self._holder_fd)
            self._board_exited()

    def _record(self, data):
        with self._cond:
            self._transcript += data
            del self._transcript[:-_TRANSCRIPT_MAX]
            self._cond.notify_all()

    def _board_exited(self):
        with self._cond:
            self._board_open = False
            self._cond.notify_all()


def _read(fd):
    """Up to 4 KiB from fd; b"" at end of file or when the other side is gone (EIO)."""
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return None
    except OSError as e:
        if e.errno == errno.EIO:  # Linux: the pty's slave side has no process left
            return b""
        raise


def _write(fd, data):
    """Write what fd takes now; return the count (0 when it is full)."""
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Run a virtual MicroPython board (the unix port behind a pty) for "
        "`mpremote connect PORT resume ...`. Prints PORT, serves until Ctrl-C."
    )
    ap.add_argument("--heapsize", default="64k", help="GC heap size, e.g. 64k (default)")
    ap.add_argument("--disk-size", default="1M", help="LittleFS2 volume at / (default 1M)")
    args = ap.parse_args(argv)

    def stop(signum, frame):
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGINT too: a shell's
        signal.signal(sig, stop)  # background job starts with it ignored
    with VirtualBoard(args.heapsize, disk_size=args.disk_size) as board:
        print(board.port, flush=True)
        print(
            "virtual board: %d-byte heap, pid %d. Try:\n  mpremote connect %s resume exec "
            '"import gc; print(gc.mem_free())"\nCtrl-C stops it.'
            % (board.heapsize, board.pid, board.port),
            file=sys.stderr,
            flush=True,
        )
        try:
            while not board.wait(0.5):
                pass
        except KeyboardInterrupt:
            return 0
        print("virtual board exited; it printed:\n%s" % board.transcript(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
