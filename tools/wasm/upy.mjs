// A 32-bit MicroPython on the command line: the WebAssembly port (no _thread, no native
// emitter, 4-byte pointers), run with node. The host tree is not visible to it, so the
// files a run needs are copied into its in-memory filesystem first, at the same relative
// paths.
//
//   node tools/wasm/upy.mjs [options] SCRIPT [ARGS...]   run SCRIPT as __main__
//   node tools/wasm/upy.mjs [options] --steps FILE.json  run each string of a JSON list
//                                                         as its own top-level execution
// options:
//   --copy PATH     copy a file or directory (relative to the current directory) in
//   --path DIR      put DIR on sys.path (like MICROPYPATH)
//   --heap BYTES    initial GC heap (the port grows it on demand; default 8 MiB)
//
// Exit status: SCRIPT's sys.exit() code, 0 when it ends normally, 1 on an uncaught
// exception; with --steps, 1 as soon as a step raises. Why steps: inside one runPython
// call this port's gc.collect() does not free what that call dropped, so code that
// measures memory runs each step as its own call.

import fs from "node:fs";
import path from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const args = process.argv.slice(2);
let heap = 8 << 20;
let stepsFile = null;
const copies = [];
const paths = [];
while (args.length && args[0].startsWith("--")) {
  const opt = args.shift();
  const val = args.shift();
  if (val === undefined) fail(`${opt} needs a value`);
  if (opt === "--copy") copies.push(val);
  else if (opt === "--path") paths.push(val);
  else if (opt === "--heap") heap = parseInt(val, 10);
  else if (opt === "--steps") stepsFile = val;
  else fail(`unknown option ${opt}`);
}
if (!stepsFile && !args.length) fail("no script given");

function fail(message) {
  process.stderr.write(`upy.mjs: error: ${message}\n`);
  process.exit(2);
}

const mp = await loadMicroPython({
  heapsize: heap,
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});

function copyIn(host, dest) {
  if (fs.statSync(host).isDirectory()) {
    mp.FS.mkdirTree(dest);
    for (const name of fs.readdirSync(host)) {
      if (name !== "__pycache__" && name !== "node_modules") copyIn(path.join(host, name), `${dest}/${name}`);
    }
  } else {
    mp.FS.mkdirTree(path.posix.dirname(dest));
    mp.FS.writeFile(dest, fs.readFileSync(host));
  }
}

// The working directory is the root, as on a board: lib/ lands at /lib.
for (const p of copies) {
  if (!fs.existsSync(p)) fail(`no such file or directory: ${p}`);
  copyIn(p, `/${path.normalize(p)}`);
}
mp.FS.chdir("/");

function run(code) {
  try {
    mp.runPython(code);
    return 0;
  } catch (e) {
    if (e.name !== "PythonError") throw e;
    if (e.type === "SystemExit") return mp.globals.get("_exit_code") ?? 0;
    process.stderr.write(e.message);
    return 1;
  }
}

mp.globals.set("_argv", JSON.stringify([...args]));
mp.globals.set("_paths", JSON.stringify(paths.map((p) => `/${path.normalize(p)}`)));
run("import json, sys\nsys.path[1:1] = json.loads(_paths)\nsys.argv[:] = json.loads(_argv)");

if (stepsFile) {
  for (const step of JSON.parse(fs.readFileSync(stepsFile, "utf8"))) {
    if (run(step)) process.exit(1);
  }
  process.exit(0);
}

copyIn(args[0], "/__main__.py");
process.exit(
  run(
    "_exit_code = 0\n" +
      "try:\n" +
      "    execfile('__main__.py')\n" +
      "except SystemExit as e:\n" +
      "    c = e.args[0] if e.args else 0\n" +
      "    _exit_code = c if isinstance(c, int) else (1 if c else 0)\n" +
      "    raise\n",
  ),
);
