// Golden tests for diagnostics: one or more bad specs per code of compiler/diagnostics.ts, each with the
// rendered output (no color) stored beside it.
//
// Layout of test/compiler/diagnostics/:
//   CODE-what.rnn            a case: compiled on its own; CODE (E0301, W0400, …) must be among its diagnostics;
//                            (E05xx, what `rnnc build` cannot build yet, is a rule of compile() like the others)
//   CODE-what.rnn.expected   its rendered diagnostics, paths relative to the repository root
//   _anything                a helper file or folder, never a case: bases that cases `extend` (cycles,
//                            ambiguous targets, `_E0203-bases/`) and `_E0208-directory.rnn/`, a directory
//                            named like a spec so that `extends` cannot read it
// E0105-invalid-utf8.rnn holds the bytes 0xff 0xfe on purpose; keep editors from "fixing" it.
//
// `UPDATE_GOLDEN=1 npx vitest run test/compiler/diagnostics.test.ts` rewrites every .expected file.
// A new code in the catalog fails the coverage test until it has a case.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fsHost } from "../../compiler/cli/fs-host.js";
import { renderDiagnostics } from "../../compiler/cli/render.js";
import { compile } from "../../compiler/compile.js";
import type { Diagnostic } from "../../compiler/diagnostics.js";
import { expectGolden } from "../golden.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DIR = "test/compiler/diagnostics";
const CASE = /^([EW]\d{4})-[a-z0-9-]+\.rnn$/;

const cases = readdirSync(join(ROOT, DIR))
  .filter((name) => !name.startsWith("_") && name.endsWith(".rnn") && statSync(join(ROOT, DIR, name)).isFile())
  .sort();

const codeOf = (name: string): string => CASE.exec(name)?.[1] ?? "";

/** Every code the catalog defines, read from its source so a new constructor needs a new case. */
const catalogCodes = (): string[] => {
  const text = readFileSync(join(ROOT, "compiler/diagnostics.ts"), "utf8");
  return [...new Set([...text.matchAll(/"([EW]0\d{3})"/g)].map((m) => m[1]!))].sort();
};

describe("diagnostics goldens", () => {
  it.each(cases)("%s", (name) => {
    expect(name, `case names are CODE-what.rnn (lower case, digits and '-')`).toMatch(CASE);
    const path = `${DIR}/${name}`;
    const r = compile(path, fsHost(ROOT));
    const rendered = renderDiagnostics(r.diagnostics, r.sources, { color: false }) + "\n";
    expectGolden(join(ROOT, `${path}.expected`), rendered);

    expect(
      r.diagnostics.map((d) => d.code),
      "the case's own code",
    ).toContain(codeOf(name));
    if (codeOf(name).startsWith("E")) expect(r.document, "no IR when there is an error").toBeUndefined();

    const within = (d: Pick<Diagnostic, "file" | "span">, what: string): void => {
      const src = r.sources.get(d.file);
      expect(src, `${what}: the source of ${d.file} is known`).toBeDefined();
      const { start, end } = d.span;
      expect(Number.isInteger(start) && Number.isInteger(end), `${what}: integer span ${start}..${end}`).toBe(true);
      expect(
        0 <= start && start <= end && end <= src!.text.length,
        `${what}: span ${start}..${end} within ${d.file} (${src!.text.length} chars)`,
      ).toBe(true);
    };
    for (const d of r.diagnostics) {
      within(d, `${d.code} ${d.message}`);
      for (const rel of d.related) within(rel, `${d.code} note ${rel.message}`);
    }
  });

  it("has a case for every code in the catalog, and no case for a code it lacks", () => {
    const catalog = catalogCodes();
    expect(catalog.length).toBeGreaterThan(30);
    const covered = new Set(cases.map(codeOf));
    expect(
      catalog.filter((c) => !covered.has(c)),
      "codes with no golden case",
    ).toEqual([]);
    expect(
      [...covered].filter((c) => !catalog.includes(c)),
      "cases for codes the catalog does not define",
    ).toEqual([]);
  });

  it("has no expected file without its case", () => {
    const orphans = readdirSync(join(ROOT, DIR))
      .filter((f) => f.endsWith(".rnn.expected"))
      .filter((f) => !cases.includes(f.slice(0, -".expected".length)));
    expect(orphans, "delete these, or restore their .rnn").toEqual([]);
  });
});
