"""What the host tools' tests share (tests/cpython is on sys.path when pytest imports them)."""


def refused(proc, *words, quiet=True):
    """Assert that `proc` refused its input as the host tools do: exit status 2, no
    traceback, one line on stderr starting `error: ` and holding each of `words`, and
    (quiet) nothing on stdout. Returns that line."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for word in words:
        assert str(word) in lines[0], (word, lines[0])
    if quiet:
        assert proc.stdout == "", proc.stdout
    return lines[0]
