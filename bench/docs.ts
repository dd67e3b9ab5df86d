// `npm run docs`: rewrites the settings reference in specs/language.md from the compiler's schema
// (compiler/schema/reference.ts). The tables between the `<!-- settings:BLOCK -->` markers are generated; the prose
// around them is kept as written.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { updateReference } from "../compiler/schema/index.js";

/** specs/language.md of this checkout (this file runs from dist/bench/). */
const SPEC = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "specs", "language.md");

const before = readFileSync(SPEC, "utf8");
const after = updateReference(before);
if (after === before) {
  process.stdout.write("specs/language.md: settings reference up to date\n");
} else {
  writeFileSync(SPEC, after);
  process.stdout.write("specs/language.md: settings reference rewritten\n");
}
