// The built CLI on real folders whose names hold text that would end a comment or a string of the generated code
// (issue 14): a line terminator (LF, CR, U+2028, U+2029), `*/`, `</script>`, quotes, a backtick, `${`. With the
// quickstart as a base spec in such a folder, `rnnc build` writes a module that parses to the same statements as
// from a plain folder, and `rnnc run` trains it: nothing the folder's name holds is executed, and rnnc never exits
// 3 (an internal error).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectExit, QUICKSTART, requireBuild, rnnc, tempDir } from "./cli.js";

const tmp = tempDir("injection");
beforeAll(requireBuild);
afterAll(() => tmp.remove());

/** The folder of the issue: `rnnc run child.rnn` printed INJECTED and exited 3. */
const INJECTING = 'd\u2028console.error("INJECTED");process.exit(3)\u2028;0 ? 0 ';
const FOLDERS: readonly (readonly [string, string])[] = [
  ["U+2028 with code after it", INJECTING],
  ["LF, CR and U+2029, each with code after it", 'a\nconsole.error("INJECTED")\rprocess.exit(3)\u2029;0 ? 0 '],
  ["*/, </script>, quotes, a backtick and ${", "end */ </script> \"q\" 'q' `t` ${x} <!-- \\"],
];

/** A `.rnn` string literal holding `text` exactly (the spec's own escapes: `\\`, `\"`, `\n`). */
const rnnString = (text: string): string => `"${text.replace(/[\\"]/g, "\\$&").replace(/\n/g, "\\n")}"`;

let n = 0;
/** A fresh directory holding `<folder>/quickstart.rnn`, a child spec beside the folder that extends it, and one inside it. */
function setUp(folder: string): string {
  const dir = join(tmp.path, `case-${n++}`);
  mkdirSync(join(dir, folder), { recursive: true });
  copyFileSync(QUICKSTART, join(dir, folder, "quickstart.rnn"));
  writeFileSync(
    join(dir, "child.rnn"),
    `experiment child extends ${rnnString(`${folder}/quickstart.rnn`)} quickstart {\n  train { epochs 1 }\n}\n`,
  );
  writeFileSync(
    join(dir, folder, "child.rnn"),
    'experiment child extends "quickstart.rnn" quickstart {\n  train { epochs 1 }\n}\n',
  );
  return dir;
}

/** The statements of a module as syntax kinds, and TypeScript's syntax errors in it. */
function statements(code: string): { kinds: ts.SyntaxKind[]; errors: number } {
  const sf = ts.createSourceFile("model.ts", code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const errors =
    ts.transpileModule(code, { reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ES2022 } }).diagnostics
      ?.length ?? 0;
  return { kinds: sf.statements.map((s) => s.kind), errors };
}

describe("folders whose names would end a comment or a string of the generated code", () => {
  let plain: ts.SyntaxKind[] = [];
  beforeAll(async () => {
    const dir = setUp("plain");
    const r = await rnnc(["build", "child.rnn"], { cwd: dir });
    expectExit(r, 0);
    plain = statements(r.stdout).kinds;
    const { ImportDeclaration, ClassDeclaration, VariableStatement, ExpressionStatement } = ts.SyntaxKind;
    expect(plain).toEqual([
      ImportDeclaration,
      ClassDeclaration,
      VariableStatement,
      VariableStatement,
      ExpressionStatement,
    ]);
  });

  it.each(FOLDERS)("%s: rnnc build gives the same statements as from a plain folder", async (_what, folder) => {
    const dir = setUp(folder);
    // Through an extends path (the header's "Inherits from"), written out with a package.json.
    const out = await rnnc(["build", "child.rnn", "-o", "out"], { cwd: dir });
    expectExit(out, 0);
    expect(JSON.parse(readFileSync(join(dir, "out", "package.json"), "utf8")).name).toBe("child");
    expect(statements(readFileSync(join(dir, "out", "model.ts"), "utf8"))).toEqual({ kinds: plain, errors: 0 });
    // As the spec's own path (the header, and the experiment's spec.file).
    const r = await rnnc(["build", `${folder}/child.rnn`], { cwd: dir });
    expectExit(r, 0);
    expect(statements(r.stdout)).toEqual({ kinds: plain, errors: 0 });
    expect(
      r.stdout
        .split("\n")
        .slice(0, 4)
        .every((l) => l.startsWith("// ")),
    ).toBe(true);
  });

  it("--set on a spec whose file name holds CR, a control character, a quote and a backslash: the override spec finds it", async () => {
    // `--set` is compiled as a spec that extends the file by name: the name must reach it as a .rnn string, exactly.
    const dir = join(tmp.path, `case-${n++}`);
    mkdirSync(dir);
    const file = 'q\r\u0001"\\ \u2028x.rnn';
    copyFileSync(QUICKSTART, join(dir, file));
    const r = await rnnc(["build", file, "--set", "train.epochs=1"], { cwd: dir });
    expectExit(r, 0);
    expect(r.stdout).toContain("epochs: 1, // (--set.rnn:4)");
    expect(statements(r.stdout)).toEqual({ kinds: plain, errors: 0 });
  });

  it.each([["child.rnn"], [`${INJECTING}/child.rnn`]])(
    "rnnc run %j trains without running the folder's text",
    async (spec) => {
      const dir = setUp(INJECTING);
      const r = await rnnc(["run", spec, "--epochs", "1", "--limit-batches", "2", "--runs", join(dir, "runs")], {
        cwd: dir,
      });
      expect(r.stdout + r.stderr).not.toContain("INJECTED");
      expect([0, 1]).toContain(r.status);
      expectExit(r, 0); // the quickstart is synthetic: it needs no data, so it trains
      expect(r.stdout).toMatch(/test perplexity/);
    },
  );
});
