// Origin comments (`// embed 12 (medium.rnn:3)`) name a spec file by its base name, unless two different files
// cited in one module share it: then by the path from the built spec's folder, the same from any current folder and
// never absolute. The fixture: fixtures/origins/a/medium.rnn extends fixtures/origins/b/medium.rnn.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fsHost } from "../../compiler/cli/fs-host.js";
import { originLabels } from "../../compiler/codegen/emit/origins.js";
import { generate } from "../../compiler/codegen/index.js";
import { compile } from "../../compiler/compile.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = "test/codegen/fixtures/origins/a/medium.rnn";

/** The module generated from `spec` as seen from the folder `cwd`. */
async function build(cwd: string, spec: string): Promise<string> {
  const r = compile(spec, fsHost(cwd));
  expect(r.diagnostics).toEqual([]);
  return generate(r.document!.experiments[0]!, { specPath: spec });
}

/** The origin comments of a module: every `(… .rnn:N …)` after the header. */
const origins = (code: string): string[] =>
  code
    .split("\n")
    .slice(5)
    .flatMap((l) => l.match(/\([^()]*\.rnn:\d+[^()]*\)/g) ?? []);

describe("origin comments", () => {
  it("tell two files named medium.rnn apart by their path from the spec's folder", async () => {
    const code = await build(ROOT, FIXTURE);
    expect(code).toContain("// embed 12 (medium.rnn:3)");
    expect(code).toContain("// layer 1: lstm(16) (../b/medium.rnn:8)");
    expect(code).toContain("epochs: 2, // (medium.rnn:4)");
    expect(origins(code)).toContain("(../b/medium.rnn:3, ../b/medium.rnn:5, ../b/medium.rnn:6)");
  });

  it("are the same whichever folder rnnc runs in, and never absolute", async () => {
    const fromRoot = await build(ROOT, FIXTURE);
    const fromFolder = await build(join(ROOT, dirname(FIXTURE)), "medium.rnn");
    const fromAbsolute = await build("/", join(ROOT, FIXTURE));
    expect(origins(fromRoot).length).toBeGreaterThan(3);
    expect(origins(fromFolder)).toEqual(origins(fromRoot));
    expect(origins(fromAbsolute)).toEqual(origins(fromRoot));
    for (const o of origins(fromAbsolute)) expect(o).not.toContain(ROOT);
  });

  it("keep base names where no two cited files share one", () => {
    expect(originLabels(["x/small.rnn", "y/medium.rnn"], "y/medium.rnn")).toEqual(["small.rnn", "medium.rnn"]);
  });

  it("fall back to the shortest telling suffix where no path from the spec's folder can be written", () => {
    // one file given absolutely, one relatively: no path between them without the current folder
    expect(originLabels(["a/m.rnn", "/abs/b/m.rnn"], "a/m.rnn")).toEqual(["a/m.rnn", "b/m.rnn"]);
    // the spec's folder climbs above the other file's: `../..` cannot be inverted
    expect(originLabels(["../../p/m.rnn", "../m.rnn"], "../../p/m.rnn")).toEqual(["p/m.rnn", "../m.rnn"]);
    for (const l of originLabels(["/x/a/m.rnn", "/y/a/m.rnn"], "/x/a/m.rnn")) expect(l.startsWith("/")).toBe(false);
  });
});
