"""One version in one place (stalloc.__version__), and the oldest MicroPython stated is
the oldest one the test command runs on."""

import glob
import json
import os
import re
import subprocess

import pytest

import stalloc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def test_every_manifest_and_package_json_has_the_version():
    for path in ["manifest.py"] + glob.glob(os.path.join(ROOT, "packages/*/manifest.py")):
        assert re.findall(r'version="([^"]+)"', _read(path)) == [stalloc.__version__], path
    for path in ["package.json"] + glob.glob(os.path.join(ROOT, "packages/*/package.json")):
        assert json.loads(_read(path))["version"] == stalloc.__version__, path


def test_pyproject_reads_the_version_from_the_package():
    text = _read("pyproject.toml")
    project = text[text.index("[project]") : text.index("\n[", text.index("[project]"))]
    assert re.search(r'^dynamic = \["version"\]', project, re.M)
    assert not re.search(r"^version = ", project, re.M)  # not written twice
    assert 'version = { attr = "stalloc.__version__" }' in text


def test_pyproject_and_every_package_json_name_the_same_authors():
    text = _read("pyproject.toml")
    names = re.findall(r'\{ name = "([^"]+)" \}', re.search(r"^authors = (.*)$", text, re.M)[1])
    assert names == ["stalloc for Python contributors"]
    for path in ["package.json"] + glob.glob(os.path.join(ROOT, "packages/*/package.json")):
        assert json.loads(_read(path))["authors"] == names, path


def test_the_changelog_starts_with_this_version():
    first = re.search(r"^## \[([^\]]+)\] - (\d{4}-\d\d-\d\d)$", _read("CHANGELOG.md"), re.M)
    assert first and first.group(1) == stalloc.__version__


def test_the_stated_minimum_micropython_is_the_oldest_tested(tmp_path):
    # The WebAssembly port (tools/wasm, pinned) is the oldest MicroPython the test command
    # runs the suite on; the README states it as the minimum, and it is what runs.
    pinned = json.loads(_read("tools/wasm/package.json"))["dependencies"]
    version = pinned["@micropython/micropython-webassembly-pyscript"].split(".")
    assert "MicroPython %s.%s or newer" % (version[0], version[1]) in _read("README.md")
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps(["import sys\nprint(sys.implementation.version[:3])"]))
    proc = subprocess.run(
        ["node", os.path.join(ROOT, "tools/wasm/upy.mjs"), "--steps", str(steps)],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split("\n")[-2] == "(%s)" % ", ".join(version), proc.stdout


def test_the_tools_extra_takes_ranges_and_the_dev_pins_fall_within_them():
    # Users install the tools extra next to their own packages: ranges there; the project's
    # own setup (the dev extra) pins exact versions, and those must be ones the ranges allow,
    # so that the tests run the commands with a version a user may have.
    tomllib = pytest.importorskip("tomllib")  # Python 3.11
    from packaging.requirements import Requirement

    extras = tomllib.loads(_read("pyproject.toml"))["project"]["optional-dependencies"]
    dev = {r.name: r for r in map(Requirement, extras["dev"])}
    assert extras["tools"], "the tools extra is empty"
    for line in extras["tools"]:
        req = Requirement(line)
        ops = sorted(spec.operator for spec in req.specifier)
        assert ops == ["<", ">="], "%s: a lower and an upper bound, not a pin" % line
        pins = [spec.version for spec in dev[req.name].specifier if spec.operator == "=="]
        assert len(pins) == 1, "dev pins %s exactly" % req.name
        assert req.specifier.contains(pins[0]), "dev's %s %s is outside %s" % (
            req.name,
            pins[0],
            line,
        )
    for line in extras["dev"]:
        assert [spec.operator for spec in Requirement(line).specifier] == ["=="], line
