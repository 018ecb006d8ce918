// Validates an AsyncAPI document with the official parser (its $refs resolved, the schemas
// they reach checked) and prints every problem found. Exit 0: no error; 1: errors; 2: usage.
// Usage: node validate.cjs PARSER_DIR DOCUMENT (PARSER_DIR: where `make tools` installed it)
"use strict";
const path = require("node:path");
const { createRequire } = require("node:module");

const SEVERITY = ["error", "warning", "info", "hint"];

async function main([parserDir, document]) {
  if (!parserDir || !document) {
    console.error("usage: node validate.cjs PARSER_DIR DOCUMENT");
    return 2;
  }
  const load = createRequire(path.resolve(parserDir, "package.json"));
  const { Parser, fromFile } = load("@asyncapi/parser");
  const { document: parsed, diagnostics } = await fromFile(new Parser(), document).parse();
  for (const d of diagnostics) {
    const where = d.path.length ? d.path.join(".") : "(document)";
    console.log(`${SEVERITY[d.severity]} ${d.code} at ${where}: ${d.message}`);
  }
  const errors = diagnostics.filter((d) => d.severity === 0).length;
  if (parsed === undefined || errors > 0) {
    console.log(`${document}: invalid (${errors} errors)`);
    return 1;
  }
  console.log(`${document}: valid AsyncAPI ${parsed.version()}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
