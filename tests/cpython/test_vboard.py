# The virtual board (tools/vboard.py): the MicroPython unix port behind a pty, driven by
# `mpremote connect PORT ...` exactly as a USB board would be, resets included. CPython only.
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

import vboard  # tools/vboard.py (tests/conftest.py puts tools/ on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VirtualBoard = vboard.VirtualBoard

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")


def _fds():
    return sorted(os.listdir("/proc/self/fd"))


def _assert_gone(pid):
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not os.path.exists("/proc/%d" % pid)


def _children(name, parent=None):
    """Running processes whose parent is `parent` (this process) and whose command line
    contains `name`."""
    parent = os.getpid() if parent is None else parent
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmdline = f.read()
        except OSError:
            continue  # exited meanwhile
        if ppid == parent and name.encode() in cmdline:
            found.append(int(entry))
    return found


def test_a_64k_board_starts_and_exec_prints_from_it():
    with VirtualBoard("64k") as board:
        assert board.port.startswith("/dev/") and os.path.exists(board.port)
        out = board.mpremote(
            "exec", "import sys; print('hello from', sys.implementation.name, sys.platform)"
        ).stdout
        assert out == "hello from micropython linux\n"
        assert board.mpremote("eval", "6 * 7").stdout == "42\n"


def test_the_gc_heap_is_64k():
    # Exact check: mem_free() + mem_alloc() (the heap the GC manages, without its own block
    # table) is between 62 KiB and 64 KiB; more than 56 KiB of it is free after boot (the
    # LittleFS2 filesystem costs about 2.4 KiB); and a 64 KiB bytearray cannot be allocated,
    # which any bigger heap (the unix port's default is 1 MiB and more) would allow.
    with VirtualBoard("64k") as board:
        out = board.mpremote(
            "exec",
            "import gc\ngc.collect()\nprint(gc.mem_free(), gc.mem_alloc())\n"
            "try:\n    bytearray(65536)\n    print('allocated')\n"
            "except MemoryError:\n    print('MemoryError')\n",
        ).stdout.split()
    free, alloc = int(out[0]), int(out[1])
    assert 62 * 1024 <= free + alloc <= 64 * 1024, out
    assert free > 56 * 1024, out
    assert out[2] == "MemoryError"


def test_cp_lands_in_the_board_filesystem_not_on_the_host(tmp_path):
    name = "vboard-%s.txt" % uuid.uuid4().hex
    text = "copied by mpremote\n"
    (tmp_path / name).write_text(text)
    before = sorted(os.listdir(ROOT)), sorted(os.listdir(os.getcwd()))
    with VirtualBoard("64k") as board:
        board.mpremote("cp", name, ":", cwd=tmp_path)
        out = board.mpremote(
            "exec",
            "import os, vfs\nprint(repr(open(%r).read()))\nprint(vfs.mount())\n"
            "print(sorted(os.listdir('/')))\n" % name,
        ).stdout.splitlines()
    assert out[0] == repr(text)
    assert out[1] == "[(<VfsLfs2>, '/')]"
    assert out[2] == repr(sorted([name, "lib"]))
    # Nowhere on the host but where we wrote it: not in the repository, not in the cwd.
    assert sorted(os.listdir(tmp_path)) == [name]
    assert (sorted(os.listdir(ROOT)), sorted(os.listdir(os.getcwd()))) == before
    for top in {ROOT, os.getcwd()}:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d not in (".venv", ".git")]
            assert name not in filenames, dirpath


def test_large_transfers_arrive_intact_both_ways(tmp_path):
    # Output: more than the relay queue (64 KiB) plus the pty buffers. Files: 10 blocks.
    # mpremote cp moves data both ways through LittleFS2 on the file-backed block device.
    data = os.urandom(40 * 1024)
    (tmp_path / "blob.bin").write_bytes(data)
    with VirtualBoard("64k") as board:
        out = board.mpremote("exec", "for i in range(16000): print(i)").stdout
        assert out == "".join("%d\n" % i for i in range(16000))
        board.mpremote("cp", "blob.bin", ":blob.bin", cwd=tmp_path)
        board.mpremote("cp", ":blob.bin", "back.bin", cwd=tmp_path)
    assert (tmp_path / "back.bin").read_bytes() == data


def test_run_exit_status_follows_the_script(tmp_path):
    (tmp_path / "passes.py").write_text("print('all good')\n")
    (tmp_path / "fails.py").write_text("print('about to fail')\nraise ValueError('boom')\n")
    with VirtualBoard("64k") as board:
        ok = board.mpremote("run", "passes.py", cwd=tmp_path, check=False)
        bad = board.mpremote("run", "fails.py", cwd=tmp_path, check=False)
        with pytest.raises(vboard.MpremoteError, match="ValueError: boom"):
            board.mpremote("run", "fails.py", cwd=tmp_path)
        assert board.alive  # an exception on the board is not the end of the board
    assert (ok.returncode, ok.stdout) == (0, "all good\n")
    assert bad.returncode != 0
    assert "about to fail" in bad.stdout and "ValueError: boom" in bad.stdout


def test_no_process_thread_or_descriptor_remains_after_exit():
    fds = _fds()
    with VirtualBoard("64k") as board:
        pid = board.pid
        os.kill(pid, 0)  # running
        assert _children("vboard_boot") == [pid]
        board.mpremote("exec", "print(1)")
    _assert_gone(pid)
    assert _children("vboard_boot") == []
    assert not [t for t in threading.enumerate() if t.name == "vboard-relay"]
    assert _fds() == fds
    assert not board.alive
    with pytest.raises(vboard.BoardError):
        board.mpremote("exec", "print(1)")


def test_cleanup_also_happens_on_exceptions():
    fds = _fds()
    with pytest.raises(KeyError), VirtualBoard("64k") as board:
        pid = board.pid
        raise KeyError("inside the with block")
    _assert_gone(pid)
    assert _fds() == fds


def _mpremote(port, *args, timeout=60):
    """mpremote as a user types it: no `resume`, so it soft-resets the board first."""
    cmd = [vboard.find_tool("mpremote"), "connect", port, *args]
    return subprocess.run(
        cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def _ok(result):
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr, (result.stdout, result.stderr)
    return result.stdout


IMPORT_STALLOC = "import stalloc; print(stalloc.__version__, stalloc.__file__)"


def test_mip_install_soft_reset_then_import_without_resume():
    # The sequence, as a user types it: every mpremote soft-resets the board on
    # connect; the board must come back each time, behind the same port, with its files.
    version = json.load(open(os.path.join(ROOT, "package.json")))["version"]
    with VirtualBoard("192k") as board:
        out = _ok(_mpremote(board.port, "mip", "install", "./package.json", timeout=120))
        assert out.rstrip().endswith("Done"), out
        assert board.boots == 2  # mpremote's soft reset on connect: a new process
        assert _ok(_mpremote(board.port, "soft-reset")) == ""
        assert board.boots == 3
        out = _ok(_mpremote(board.port, "exec", IMPORT_STALLOC))
        assert out == "%s /lib/stalloc/__init__.py\n" % version
        assert board.boots == 4 and board.alive
        # the helper's resume=False is the same thing
        board.mpremote("exec", IMPORT_STALLOC, resume=False)
        assert board.boots == 5


def test_a_soft_reset_clears_the_heap_keeps_the_disk_and_the_raw_repl():
    with VirtualBoard("64k") as board:
        port, pid = board.port, board.pid
        board.mpremote("exec", "x = 42\nwith open('kept.txt', 'w') as f:\n    f.write('on disk')")
        assert board.mpremote("eval", "x").stdout == "42\n"  # resume: no reset, x stays
        # soft-reset, then a command in the same mpremote (it stays in the raw REPL)
        out = board.mpremote("soft-reset", "+", "exec", "print('x' in globals())").stdout
        assert out == "False\n"
        assert board.boots == 2 and board.pid != pid and board.port == port
        out = board.mpremote("exec", "print(open('kept.txt').read())", resume=False).stdout
        assert out == "on disk\n"
        # sys.exit() and machine.soft_reset() are soft resets too, as on a board
        board.mpremote("exec", "import sys; sys.exit()")
        assert board.wait_booted(4, 20)
        board.mpremote("exec", "import machine; machine.soft_reset()")
        assert board.wait_booted(5, 20)
        assert board.mpremote("exec", "print(open('kept.txt').read())").stdout == "on disk\n"
        assert "soft reset, booting again" in board.transcript()


def test_a_hard_reset_reboots_on_the_same_disk_in_the_friendly_repl():
    with VirtualBoard("64k") as board:
        board.mpremote("exec", "with open('kept.txt', 'w') as f:\n    f.write('flash')")
        _ok(_mpremote(board.port, "reset"))  # machine.reset() after a soft reset
        assert board.wait_booted(3, 20)
        assert "(status %d): hard reset" % vboard.HARD_RESET in board.transcript()
        assert board.transcript().endswith(vboard.PROMPT.decode())  # friendly, not raw
        assert board.mpremote("exec", "print(open('kept.txt').read())").stdout == "flash\n"
        # the rest of machine is the unix port's
        assert board.mpremote("eval", "hasattr(__import__('machine'), 'mem8')").stdout == (
            "True\n"
        )


def test_a_killed_board_process_boots_again_like_a_power_cycle():
    with VirtualBoard("64k") as board:
        board.mpremote("exec", "with open('kept.txt', 'w') as f:\n    f.write('flash')")
        pid = board.pid
        os.killpg(pid, signal.SIGKILL)
        assert board.wait_booted(2, 20)
        _assert_gone(pid)
        assert board.mpremote("exec", "print(open('kept.txt').read())").stdout == "flash\n"


def test_a_board_that_cannot_boot_again_fails_fast_instead_of_hanging(tmp_path):
    # A micropython that boots once, then exits at once: the second boot fails, the relay
    # hangs the port up, so mpremote errors out at once and the helper says why.
    once = tmp_path / "booted"
    fake = tmp_path / "micropython"
    fake.write_text(
        '#!/bin/sh\n[ -e "%s" ] && exit 3\ntouch "%s"\nexec "%s" "$@"\n'
        % (once, once, vboard.find_tool("micropython"))
    )
    fake.chmod(0o755)
    fds = _fds()
    with VirtualBoard("64k", micropython=str(fake)) as board:
        t0 = time.monotonic()
        board.mpremote("exec", "import sys; sys.exit()", check=False, timeout=20)
        assert board.wait(10)
        assert time.monotonic() - t0 < 10
        assert not board.alive
        assert "exited while booting" in board.transcript()
        with pytest.raises(vboard.BoardError, match="not running"):
            board.mpremote("exec", "print(1)")
    assert _fds() == fds
    # and a first boot that fails is an error at start
    with pytest.raises(vboard.BoardError, match="did not boot"):
        VirtualBoard("64k", micropython=str(fake)).start()
    assert _fds() == fds


def _cli(*args):
    cmd = [sys.executable, os.path.join(ROOT, "tools", "vboard.py"), "--heapsize", "64k", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop_cli(cli):
    try:
        cli.send_signal(signal.SIGINT)
        return cli.wait(20)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        cli.stdout.close()
        cli.stderr.close()


def test_the_cli_disk_survives_a_restart_of_vboard_py(tmp_path):
    disk = tmp_path / "flash.img"
    cli = _cli("--disk", str(disk))
    try:
        port = cli.stdout.readline().strip()
        _ok(_mpremote(port, "exec", "with open('kept.txt', 'w') as f:\n    f.write('runs')"))
        # one running board per disk
        second = _cli("--disk", str(disk))
        assert second.wait(30) == 1
        assert "another running virtual board" in second.stderr.read()
        second.stdout.close()
        second.stderr.close()
    finally:
        assert _stop_cli(cli) == 0
    assert disk.stat().st_size == 1024 * 1024
    cli = _cli("--disk", str(disk))
    try:
        port = cli.stdout.readline().strip()
        assert _ok(_mpremote(port, "exec", "print(open('kept.txt').read())")) == "runs\n"
    finally:
        assert _stop_cli(cli) == 0
    assert os.listdir(tmp_path) == ["flash.img"]


def test_cli_prints_the_port_and_serves_until_ctrl_c():
    cli = _cli("--temp-disk")
    try:
        port = cli.stdout.readline().strip()
        assert port.startswith("/dev/"), port
        mpremote = vboard.find_tool("mpremote")
        out = subprocess.run(
            [mpremote, "connect", port, "resume", "exec", "import gc; print(gc.mem_free())"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        assert 56 * 1024 < int(out) <= 64 * 1024
        board_pids = _children("vboard_boot", parent=cli.pid)
        assert len(board_pids) == 1
    finally:
        assert _stop_cli(cli) == 0
    _assert_gone(board_pids[0])


def test_a_kept_disk_survives_a_reset_like_flash(tmp_path):
    disk = tmp_path / "flash.img"
    disk.write_bytes(b"")  # an empty file, as mkstemp makes: sized and formatted
    with vboard.VirtualBoard("64k", disk=str(disk), disk_size="256k") as board:
        board.mpremote("exec", "with open('/kept.txt', 'w') as f:\n    f.write('still here')")
    assert disk.stat().st_size == 256 * 1024
    with vboard.VirtualBoard("64k", disk=str(disk), disk_size="1M") as board:  # keeps 256k
        out = board.mpremote("exec", "print(open('/kept.txt').read())").stdout
        blocks = board.mpremote("exec", "import os; print(os.statvfs('/')[2])").stdout
    assert out.strip() == "still here"
    assert int(blocks) == 256 * 1024 // 4096
    assert disk.stat().st_size == 256 * 1024
    # a damaged image is formatted at boot, as a board does
    disk.write_bytes(b"\xff" * (64 * 1024))
    with vboard.VirtualBoard("64k", disk=str(disk)) as board:
        listing = board.mpremote("exec", "import os; print(sorted(os.listdir('/')))").stdout
    assert listing.strip() == "['lib']"
