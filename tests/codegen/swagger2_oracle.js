// The test oracle: swagger2openapi (npm, pinned in package.json) converts Swagger 2.0 documents.
// Usage: node swagger2_oracle.js IN=OUT [IN=OUT ...]; writes each OpenAPI 3 document as JSON.
// External references are left as written (resolve: false), as loom's bundler resolves them.
"use strict";
const fs = require("fs");
const yaml = require("yaml");
const converter = require("swagger2openapi");

async function main() {
  for (const pair of process.argv.slice(2)) {
    const [input, output] = pair.split("=");
    const text = fs.readFileSync(input, "utf8");
    const source = text.trimStart().startsWith("{") ? JSON.parse(text) : yaml.parse(text);
    const options = { patch: true, warnOnly: true, resolve: false, direct: true, source: input };
    const converted = await converter.convertObj(source, options);
    fs.writeFileSync(output, JSON.stringify(converted, null, 1));
    process.stdout.write(`converted ${input}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`swagger2openapi failed: ${err && err.message}\n`);
  process.exit(1);
});
