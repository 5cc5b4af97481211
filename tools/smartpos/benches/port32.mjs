// Runs a MicroPython script on MicroPython's WebAssembly port (a 32-bit MicroPython: 4-byte
// object words, 31-bit small integers, as on the board's Cortex-M4) under Node.js, with a
// directory tree of .py / .mpy files on its module path.  Used by the bench (port32.py).
//   node port32.mjs MICROPYTHON_MJS MODULE_DIR SCRIPT HEAP_BYTES
// Exit status 1 when the script raises (its traceback on stderr).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [entry, moduleDir, script, heap] = process.argv.slice(2);
const { loadMicroPython } = await import(pathToFileURL(entry).href);
const mp = await loadMicroPython({
  heapsize: Number(heap),
  linebuffer: true,
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});

function copyTree(src, dst) {
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, e.name);
    const to = dst + "/" + e.name;
    if (e.isDirectory()) {
      mp.FS.mkdir(to);
      copyTree(from, to);
    } else if (e.name.endsWith(".py") || e.name.endsWith(".mpy")) {
      mp.FS.writeFile(to, fs.readFileSync(from));
    }
  }
}

mp.FS.mkdir("/modules");
copyTree(moduleDir, "/modules");
try {
  mp.runPython("import sys\nsys.path.insert(0, '/modules')\n" + fs.readFileSync(script, "utf8"));
} catch (err) {
  process.stderr.write(String(err && err.message ? err.message : err) + "\n");
  process.exit(1);
}
