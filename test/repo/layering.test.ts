// The layering rules of .dependency-cruiser.cjs (run on the repository by `npm run lint`) catch what they say they
// catch: a small tree laid out like the repository, with one forbidden import per rule and the allowed ones beside
// them, is cruised with the repository's own configuration, and exactly the forbidden imports are reported.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CRUISE = join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");

/** File -> its text: each import is one edge of the graph; `export {}` makes a file without imports a module. */
const TREE: Record<string, string> = {
  "grammar/parser.ts": 'import { x } from "../compiler/compile.js";\nexport const p = x;\n',
  "grammar/tokens.ts": "export {};\n",
  "compiler/compile.ts": 'import "../grammar/tokens.js";\nexport const x = 1;\n',
  "compiler/lower.ts":
    'import { main } from "./cli/main.js";\nimport { fit } from "../runtime/train/loop.js";\nexport { main, fit };\n',
  "compiler/read.ts":
    'import { readFileSync } from "node:fs";\nimport { createHash } from "node:crypto";\nexport { readFileSync, createHash };\n',
  "compiler/cli/main.ts":
    'import { readFileSync } from "node:fs";\nimport { x } from "../compile.js";\nexport const main = [readFileSync, x];\n',
  "runtime/index.ts": 'import { x } from "../compiler/compile.js";\nexport const r = x;\n',
  "runtime/model/cell.ts":
    'import { fit } from "../train/loop.js";\nimport type { Gate } from "./gate.js";\nexport const c = fit;\nexport type G = Gate;\n',
  "runtime/model/gate.ts":
    'import { c } from "./cell.js";\nimport { k } from "../accel/kernels/simd.js";\nexport type Gate = [typeof c, typeof k];\n',
  "runtime/train/loop.ts":
    'import { c } from "../model/cell.js";\nimport { h } from "../../test/helper.js";\nimport { r } from "../index.js";\nexport const fit = [c, h, r];\n',
  "runtime/data/corpus.ts":
    'import { c } from "../model/cell.js";\nimport { rng } from "../base/rng.js";\nimport { readFileSync } from "node:fs";\nexport const d = [c, rng, readFileSync];\n',
  "runtime/accel/gemm.ts":
    'import { c } from "../model/cell.js";\nimport { k } from "./kernels/simd.js";\nexport const g = [c, k];\n',
  "runtime/accel/kernels/simd.ts": "export const k = 1;\n",
  "runtime/base/rng.ts": "export const rng = 1;\n",
  "runtime/base/scoped.ts": 'import type { Gate } from "../model/gate.js";\nexport type S = Gate;\n',
  "test/helper.ts":
    'import { main } from "../compiler/cli/main.js";\nimport { r } from "../runtime/index.js";\nexport const h = [main, r];\n',
  "bench/speed.ts":
    'import { main } from "../compiler/cli/main.js";\nimport { fit } from "../runtime/train/loop.js";\nexport const b = [main, fit];\n',
};

/** Exactly the forbidden edges of TREE, as `rule: from -> to` (a cycle is reported once, at its first edge). */
const EXPECTED = [
  "compiler-does-not-import-cli: compiler/lower.ts -> compiler/cli/main.ts",
  "compiler-does-not-import-runtime: compiler/lower.ts -> runtime/train/loop.ts",
  "grammar-imports-only-grammar: grammar/parser.ts -> compiler/compile.ts",
  "io-only-at-the-compiler-edge: compiler/read.ts -> fs",
  // cell -> train/loop -> cell, and cell -> gate -> cell through a type-only import: both are cycles
  "no-circular: runtime/model/cell.ts -> runtime/model/gate.ts",
  "no-circular: runtime/model/cell.ts -> runtime/train/loop.ts",
  "runtime-accel-imports-only-accel: runtime/accel/gemm.ts -> runtime/model/cell.ts",
  "runtime-base-imports-only-base: runtime/base/scoped.ts -> runtime/model/gate.ts",
  "runtime-data-imports-only-base: runtime/data/corpus.ts -> runtime/model/cell.ts",
  "runtime-does-not-import-compiler: runtime/index.ts -> compiler/compile.ts",
  "runtime-inside-does-not-import-its-index: runtime/train/loop.ts -> runtime/index.ts",
  "runtime-model-imports-only-accel-and-base: runtime/model/cell.ts -> runtime/train/loop.ts",
  "sources-do-not-import-tests: runtime/train/loop.ts -> test/helper.ts",
];

const dir = mkdtempSync(join(tmpdir(), "rnnc-layering-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

describe("the layering rules", () => {
  it("report each forbidden import of a repository-shaped tree, and nothing else", () => {
    for (const [file, text] of Object.entries(TREE)) {
      mkdirSync(join(dir, dirname(file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    // The repository's module options (NodeNext: an import that ends in .js names the .ts source), not its includes.
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true } }),
    );
    const config = join(ROOT, ".dependency-cruiser.cjs");
    const args = [
      CRUISE,
      "--config",
      config,
      "--output-type",
      "json",
      "grammar",
      "compiler",
      "runtime",
      "test",
      "bench",
    ];
    // Exit status is the number of errors; the JSON report is on stdout either way.
    let out: string;
    try {
      out = execFileSync(process.execPath, args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      out = (e as { stdout: string }).stdout;
    }
    const report = JSON.parse(out) as { summary: { violations: Violation[] } };
    const found = report.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
    expect(found).toEqual(EXPECTED);
  }, 60_000);
});
