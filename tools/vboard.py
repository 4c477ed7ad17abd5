"""A virtual MicroPython board: the unix port behind a pseudo-terminal, for mpremote.

    with VirtualBoard(heapsize="64k") as board:
        board.mpremote("cp", "lib/stalloc/heap.py", ":lib/")
        print(board.mpremote("exec", "import gc; print(gc.mem_free())").stdout)

    python tools/vboard.py --heapsize 64k      # prints the port, serves until Ctrl-C
    mpremote connect /dev/pts/N exec "print(1)"

`mpremote connect <board.port> ...` talks to it as to a USB board: raw REPL, raw paste,
`exec`, `eval`, `run`, `cp`, `ls`, `df`, `mount`, `mip install`, `soft-reset`, `reset`,
with or without `resume`. Like a board, it survives its resets and keeps its disk:

  - soft reset (Ctrl-D at an empty prompt, which mpremote sends on connect unless given
    `resume`; `sys.exit()`, `machine.soft_reset()`, the end of the REPL): the unix port
    ends its process there, so the board boots a new one on the same disk, behind the
    same port, and prints "MPY: soft reboot" as a board does. A reset from the raw REPL
    comes back in the raw REPL (this process sends the new one Ctrl-A), as on a board.
  - hard reset (`machine.reset()`, so `mpremote reset`): the same without the "soft
    reboot" line, back in the friendly REPL as after power-on. The unix port has no
    `machine.reset()`; `vboard_boot` (tools/vboard_boot.py) adds it by ending the
    process with status HARD_RESET, so board code that catches SystemExit catches it.
  - the board's process dying any other way (killed, crashed) is a power cycle: it boots
    again, on the same disk.
  - the disk: a temporary image kept for the VirtualBoard's whole life (every boot), or
    the image file `disk` names, kept after close: the next VirtualBoard (or
    `tools/vboard.py --disk FILE` run) on it boots with the files the last one left, as a
    board keeps its flash when unplugged. One running board per image (an exclusive
    lock); an image that does not mount (blank or damaged) is formatted at boot, as
    boards do.

What is not kept across a reset, as on a board: the GC heap, modules, variables, and
anything mpremote `mount` had mounted. `boots` counts the boots. Only a boot that fails
(no vboard_boot ready line and prompt within start_timeout) ends the board: the port
hangs up (a connected mpremote fails at once rather than waiting), `alive` turns False
and the next `mpremote()` call raises `BoardError`. Unlike a board, Ctrl-C cannot
interrupt running code (see `mpremote()`), and a command that times out leaves the board
busy: close it and start another.

How it is wired (pure Python, no socat; tested on Linux):

    mpremote --- /dev/pts/N (pty B) === relay thread === pty A --- micropython
                 `port`                 in this process        stdin/stdout/stderr

  - `micropython -X heapsize=N -i -c "__import__('vboard_boot')"` runs in its own session,
    with the slave of pty A as stdin/stdout/stderr and as its controlling terminal, in
    socat's `rawer` mode (raw, no echo, no CR/LF mapping: `onlcr=0`). Because A is its
    controlling terminal, the kernel hangs A up and sends the board SIGHUP whenever this
    process dies, even by SIGKILL and even while the board is busy: no orphaned
    `micropython` survives. A one-line Python shim (TIOCSCTTY, then exec) makes A the
    controlling terminal: a `preexec_fn` would do it too, but is unsafe in a process with
    threads. Each boot gets a new pty A; pty B, the port, stays.
  - A daemon thread relays bytes between the masters of A and B (select, non-blocking
    writes, at most 64 KiB queued each way: a board that prints with nobody reading
    blocks, as with hardware flow control). This process keeps B's slave open itself, so B
    survives mpremote closing it; pyserial flushes stale input when it opens the port.
    When the board's process exits, the relay reaps it and starts the next boot; while a
    board boots, what the host sends waits in the queue, and the ready line is kept from
    the port (it is in `transcript()`).
  - The disk image is open in this process for the board's life and passed to each boot
    as a descriptor (VBOARD_DISK_FD): the temporary one is unlinked at once, so nothing
    is left behind even if this process is killed. `close()`, also on exceptions inside
    `with`, stops the relay, sends SIGTERM, then SIGKILL, to the board's process group,
    reaps it and closes every descriptor.

The board's filesystem: a LittleFS2 volume at "/" on a block device whose blocks are the
bytes of a disk image file (1 MiB by default, sparse, 4 KiB blocks), so the disk is never
in the GC heap. `vboard_boot` opens the image, unmounts the host VFS, mounts LittleFS2 at
"/" (formatting a blank image), creates "/lib" and puts it first on `sys.path`. Why not a
bytearray RAM disk: a 96-128 KiB bytearray cannot be allocated in a 64 KiB GC heap at all,
and a disk small enough to fit would take most of the heap the code under test is meant
to have. Why not VfsPosix on a host directory: it would work, but `df`/`statvfs` would
report the host's disk, "/.." walks out of the directory into the host tree, and errors
and limits would be a PC's, not those of the LittleFS2 that rp2 and esp32 boards use.
With the image the filesystem costs the board about 2.4 KiB of GC heap (the boot module,
the block-device object, LittleFS2's caches: after `gc.collect()`, `gc.mem_free()` is
about 61 kB here against 62.7 kB in a bare `micropython -X heapsize=64k`), roughly what a
real board's flash driver costs; `mpremote cp` goes through LittleFS2 as on a board; and
nothing reaches the host tree or the caller's working directory (the host VFS is gone
before the first command arrives).

Executables are looked up next to `sys.executable` first (the virtualenv's bin), then on
PATH.
"""

import argparse
import errno
import fcntl
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
# Imported, not run as __main__ (-m): the REPL's globals start empty, as on a board.
_BOOT = "__import__(%r)" % BOOT_MODULE
DISK_FD_ENV = "VBOARD_DISK_FD"  # vboard_boot.DISK_FD: the image's descriptor in the board
DISK_BLOCK = 4096  # vboard_boot.BLOCK_SIZE
BOOT_MARKER = b"vboard_boot: ready"  # printed by vboard_boot once "/" is LittleFS2
PROMPT = b">>> "  # then the friendly REPL is up
HARD_RESET = 0x48  # vboard_boot._HARD_RESET: the exit status of machine.reset()
SOFT_REBOOT = b"MPY: soft reboot\r\n"  # what a board prints on a soft reset (mpremote waits)
# The REPL's mode shows in what the board prints on entering it; a soft reset keeps it.
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
FRIENDLY_BANNER = b'Type "help()" for more information.\r\n'
_TAIL = max(len(RAW_BANNER), len(FRIENDLY_BANNER)) - 1
_QUEUE_MAX = 64 * 1024  # bytes buffered per direction before the relay stops reading
_TRANSCRIPT_MAX = 16 * 1024  # tail of the board's output kept for error messages

# Runs in the child between fork and the board: makes pty A (its stdin, in a new session)
# the controlling terminal, then becomes micropython. Pure Python and thread-safe, unlike
# a preexec_fn; costs one short interpreter start.
_CTTY_SHIM = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def default_disk():
    """The CLI's disk image when --disk is not given: one per user, kept between runs."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "stalloc", "vboard-disk.img")


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


def _shown(name):
    # How to type the command `name` from here: its path relative to the current folder
    # when it is not the one on PATH (.venv/bin/mpremote in a checkout).
    try:
        path = find_tool(name)
    except FileNotFoundError:
        return name
    return name if shutil.which(name) == path else os.path.relpath(path)


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


class _BootFailed(Exception):
    """A boot gave no ready line and prompt: the board is dead (see `alive`)."""


class VirtualBoard:
    """The MicroPython unix port behind a pseudo-terminal that mpremote can open.

    heapsize: the GC heap (`-X heapsize`), bytes or "64k"-style. disk_size: the LittleFS2
    volume at "/" (4 KiB blocks, in a file, not in the heap). disk: None for a temporary
    image, kept across the board's resets and deleted by close(); or a path to keep the
    volume in, as a board keeps its flash: a later VirtualBoard on the same path boots with
    the files this one left. An absent or empty file is made disk_size bytes; an existing
    image keeps its size. An image that does not mount as LittleFS2 (blank, or damaged) is
    formatted, as boards do at boot. An image another running board holds raises
    BoardError. micropython/mpremote: executables, found with `find_tool` when None.
    start_timeout: seconds each boot has to print the REPL prompt. Use as a context
    manager, or call start() and close() yourself.
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
        self._proc = None  # the board's current process
        self._fds = []  # every descriptor this object owns, closed by close()
        self._fd_lock = threading.Lock()
        self._disk_fd = self._board_fd = self._host_fd = self._holder_fd = None
        self._wake_r = self._wake_w = None
        self._thread = None
        self._cond = threading.Condition()
        self._transcript = bytearray()
        self._tail = b""  # the end of the output, for banners split across reads
        self._raw = False  # the REPL's mode, from the banners the board printed
        self._state = None  # "booting", "up", then "dead" when a boot fails
        self._boot_deadline = 0.0
        self._boots = 0
        self._relay_error = None
        self._started = self._closed = False

    # -- life cycle ----------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        """Start the board and return once its REPL prompt appears. Raises BoardError."""
        if self._started or self._closed:
            raise BoardError("a VirtualBoard starts once")
        self._started = True
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self):
        self._micropython = self._micropython or find_tool("micropython")
        self._disk_fd = self._open_disk()
        self._host_fd, self._holder_fd = self._openpty()  # pty B: what mpremote opens
        _rawer(self._holder_fd)
        self.port = os.ttyname(self._holder_fd)
        self._wake_r, self._wake_w = os.pipe()
        self._fds += [self._wake_r, self._wake_w]
        for fd in (self._host_fd, self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
        self._spawn()
        self._thread = threading.Thread(target=self._relay, name="vboard-relay", daemon=True)
        self._thread.start()
        with self._cond:
            self._cond.wait_for(lambda: self._state != "booting")
            if self._state != "up":
                raise BoardError("virtual board did not boot: %s" % self._text())

    def _open_disk(self):
        if self.disk is None:
            fd, path = tempfile.mkstemp(prefix="vboard-", suffix=".img")
            os.unlink(path)  # the descriptor keeps it: nothing left behind, even if killed
        else:
            fd = os.open(self.disk, os.O_RDWR | os.O_CREAT, 0o666)
        self._fds.append(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BoardError("%s is the disk of another running virtual board" % self.disk)
        if os.fstat(fd).st_size == 0:  # new (or an empty file, as mkstemp makes)
            os.ftruncate(fd, self.disk_size)  # sparse zeros, formatted by vboard_boot
        return fd

    def _spawn(self):
        """Boot a new board process on the disk, behind a new pty A (relay: up to prompt)."""
        board_fd, board_slave = self._openpty()  # pty A: the board's console
        _rawer(board_slave)
        os.set_blocking(board_fd, False)
        env = dict(os.environ, MICROPYPATH=TOOLS)
        env[DISK_FD_ENV] = str(self._disk_fd)
        env.pop("MICROPYINSPECT", None)
        cmd = [sys.executable, "-I", "-S", "-c", _CTTY_SHIM, self._micropython]
        cmd += ["-X", "heapsize=%d" % self.heapsize, "-i", "-c", _BOOT]
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=board_slave,
                stdout=board_slave,
                stderr=board_slave,
                cwd=TOOLS,  # nothing is written before the host VFS goes
                env=env,
                start_new_session=True,
                close_fds=True,
                pass_fds=(self._disk_fd,),
            )
        except BaseException:
            self._close_fd(board_fd)
            raise
        finally:
            self._close_fd(board_slave)  # only the board holds it: its exit hangs A up
        with self._cond:
            self._proc, self._board_fd = proc, board_fd
            self._state = "booting"
            self._boots += 1
            self._boot_deadline = time.monotonic() + self.start_timeout
            self._cond.notify_all()

    def close(self):
        """Stop the relay and the board, close every descriptor (the temporary disk goes)."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass
            self._thread.join(10)
        if self._proc is not None:
            _stop(self._proc)
        for fd in list(self._fds):
            self._close_fd(fd)

    def _openpty(self):
        master, slave = os.openpty()
        with self._fd_lock:
            self._fds += [master, slave]
        return master, slave

    def _close_fd(self, fd):
        with self._fd_lock:  # the relay thread closes pty B when a boot fails
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
        """Process id of the board's current boot (None before start)."""
        return None if self._proc is None else self._proc.pid

    @property
    def boots(self):
        """How many times the board has booted: 1 after start(), one more per reset."""
        return self._boots

    @property
    def alive(self):
        """True from start() to close(), resets included, unless a boot failed."""
        return self._state in ("booting", "up") and not self._closed

    def wait(self, timeout=None):
        """Wait until the board is dead (a boot failed) or timeout seconds; True if it is."""
        with self._cond:
            self._cond.wait_for(lambda: self._state == "dead", timeout)
            return self._state == "dead"

    def wait_booted(self, boots, timeout=None):
        """Wait until the board has booted `boots` times and shows its prompt; return
        True if it has (False on timeout or when it is dead)."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._state == "dead" or (self._boots >= boots and self._state == "up"),
                timeout,
            )
            return self._state == "up" and self._boots >= boots

    def transcript(self):
        """The last 16 KiB the board printed (text), for diagnostics."""
        with self._cond:
            return self._text()

    def _text(self):
        return bytes(self._transcript).decode("utf-8", "replace")

    # -- mpremote ------------------------------------------------------------------------

    def mpremote(self, *args, check=True, timeout=60.0, cwd=None, resume=True):
        """Run `mpremote connect <port> resume <args...>`; return the CompletedProcess.

        stdout/stderr are text; cwd: where mpremote runs (local paths in `cp`, `run`).
        resume=False leaves `resume` out: mpremote soft-resets the board first, as it does
        a real one. check: raise MpremoteError on a non-zero exit. timeout: seconds, then
        mpremote is killed and subprocess.TimeoutExpired raised. The board goes on with
        what it was running: unlike a board, the unix port cannot be interrupted by Ctrl-C
        over its terminal (it keeps the tty raw; only SIGINT would, and that ends it when
        idle), so after a timeout close the board. Raises BoardError if the board is dead.
        """
        if not self.alive:
            raise BoardError(
                "virtual board is not running (closed, or a boot failed); it printed:\n%s"
                % self.transcript()
            )
        mpremote = self._mpremote or find_tool("mpremote")
        cmd = [mpremote, "connect", self.port] + (["resume"] if resume else [])
        cmd += [str(a) for a in args]
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
        host, wake = self._host_fd, self._wake_r
        to_board = bytearray()
        to_host = bytearray()
        booted = bytearray()  # what the booting board printed so far
        restore_raw = False  # send Ctrl-A once it is up: it was reset from the raw REPL
        try:
            while True:
                board, booting = self._board_fd, self._state == "booting"
                rlist = [wake]
                if len(to_board) < _QUEUE_MAX:
                    rlist.append(host)
                if booting or len(to_host) < _QUEUE_MAX:
                    rlist.append(board)
                wlist = [host] if to_host else []
                if to_board and not booting:
                    wlist.append(board)
                timeout = max(0.0, self._boot_deadline - time.monotonic()) if booting else None
                readable, writable, _ = select.select(rlist, wlist, [], timeout)
                if wake in readable:
                    return
                if board in readable:
                    data = _read(board)
                    if data == b"":  # the board's process ended: a reset
                        if booting:
                            raise _BootFailed("the board exited while booting")
                        restore_raw = self._reboot(to_host)
                        del to_board[:]  # what it had not read yet dies with it, as on a board
                        del booted[:]
                        continue
                    if data:
                        self._record(data)
                        if not booting:
                            to_host += data
                        else:
                            booted += data
                            if booted.endswith(PROMPT):
                                self._booted(booted, to_board, to_host, restore_raw)
                elif booting and time.monotonic() >= self._boot_deadline:
                    raise _BootFailed("the board gave no prompt within %g s" % self.start_timeout)
                if host in readable:
                    to_board += _read(host) or b""
                if board in writable:
                    try:
                        del to_board[: _write(board, to_board)]
                    except OSError:
                        pass  # the board is exiting: the read side sees it next
                if host in writable:
                    del to_host[: _write(host, to_host)]
        except _BootFailed as e:
            self._record(b"\n[vboard: %s]\n" % str(e).encode())
            _stop(self._proc)
            _write(host, to_host)
        except Exception as e:
            self._relay_error = e
            self._record(b"\n[vboard relay failed: %r]\n" % (e,))
        # The board is dead: hang pty B up, so that a connected mpremote fails at once
        # instead of waiting for bytes forever.
        self._close_fd(self._host_fd)
        self._close_fd(self._holder_fd)
        with self._cond:
            self._state = "dead"
            self._cond.notify_all()

    def _reboot(self, to_host):
        """The board's process ended: reap it and boot the next one. Return True if the
        new one is to be put in the raw REPL (a soft reset from there)."""
        status = _stop(self._proc, ending=True)
        self._close_fd(self._board_fd)
        hard = status == HARD_RESET
        self._record(
            b"\n[vboard: the board's process ended (status %d): %s reset, booting again]\n"
            % (status, b"hard" if hard else b"soft")
        )
        if not hard:
            to_host += SOFT_REBOOT
        raw = self._raw and not hard
        self._spawn()
        return raw

    def _booted(self, booted, to_board, to_host, restore_raw):
        if BOOT_MARKER not in booted:  # a REPL on the host filesystem: refuse it
            raise _BootFailed("vboard_boot failed")
        if restore_raw:
            to_board[:0] = b"\x01"  # what it prints on entering the raw REPL is its answer
        else:  # the REPL's banner and prompt, without the ready line
            to_host += booted[booted.index(b"\n", booted.index(BOOT_MARKER)) + 1 :]
        with self._cond:
            self._state = "up"
            self._cond.notify_all()

    def _record(self, data):
        with self._cond:
            self._transcript += data
            del self._transcript[:-_TRANSCRIPT_MAX]
            window = self._tail + data
            raw, friendly = window.rfind(RAW_BANNER), window.rfind(FRIENDLY_BANNER)
            if raw != friendly:  # one of them is there (both absent: -1 == -1)
                self._raw = raw > friendly
            self._tail = bytes(window[-_TAIL:])
            self._cond.notify_all()


def _stop(proc, ending=False):
    """Reap proc, ending its process group (SIGTERM, then SIGKILL) if it still runs;
    return its exit status. ending: it is exiting on its own, give it 2 s first."""
    steps = ((signal.SIGTERM, 3), (signal.SIGKILL, 10))
    for sig, grace in ((None, 2),) + steps if ending else steps:
        if sig is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)  # its own session: the board and anything it ran
            except (ProcessLookupError, PermissionError):
                proc.send_signal(sig)
        try:
            return proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    return proc.wait()


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
        "`mpremote connect PORT ...`. Prints PORT, serves until Ctrl-C. The board survives "
        "soft and hard resets; its disk survives this program."
    )
    ap.add_argument("--heapsize", default="64k", help="GC heap size, e.g. 64k (default)")
    ap.add_argument(
        "--disk",
        default=default_disk(),
        help="the board's flash: a LittleFS2 disk image file, kept across resets and runs "
        "(default %(default)s; made --disk-size big if absent, formatted if blank)",
    )
    ap.add_argument(
        "--temp-disk", action="store_true", help="a blank disk instead, deleted at exit"
    )
    ap.add_argument("--disk-size", default="1M", help="size of a new disk image (default 1M)")
    args = ap.parse_args(argv)
    disk = None if args.temp_disk else args.disk
    if disk is not None:
        os.makedirs(os.path.dirname(os.path.abspath(disk)), exist_ok=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGINT too: a shell's
        signal.signal(sig, stop)  # background job starts with it ignored
    try:
        board = VirtualBoard(args.heapsize, disk_size=args.disk_size, disk=disk).start()
    except BoardError as e:
        print("vboard: %s" % e, file=sys.stderr)
        return 1
    try:
        print(board.port, flush=True)
        print(
            "virtual board: %d-byte heap, disk %s, pid %d. Try:\n  %s connect %s exec "
            '"import gc; print(gc.mem_free())"\nCtrl-C stops it.'
            % (board.heapsize, disk or "temporary", board.pid, _shown("mpremote"), board.port),
            file=sys.stderr,
            flush=True,
        )
        try:
            while not board.wait(0.5):
                pass
        except KeyboardInterrupt:
            return 0
        print(
            "virtual board failed to boot; it printed:\n%s" % board.transcript(), file=sys.stderr
        )
        return 1
    finally:
        board.close()


if __name__ == "__main__":
    sys.exit(main())
