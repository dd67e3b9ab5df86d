// Every repository path that a comment or a doc cites resolves to a file or folder of the repository, and nothing
// names the folder beside a checkout where one machine keeps its data and notes (another clone does not have it).
// The finder itself is tested first on small texts, so that an empty list of failures means something.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  checkedFiles,
  citations,
  resolves,
  sharedCitations,
  sharedMentions,
  unresolvedCitations,
  type Citation,
} from "./references.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const paths = (file: string, text: string): string[] => citations(file, text).map((c) => c.path);
const cite = (file: string, path: string, glob = false): Citation => ({ file, line: 1, path, glob });
/** Spelled in pieces: this file must not cite that folder itself. */
const SHARED = ["..", "shared", "data"].join("/");

describe("the citation finder", () => {
  it("reads TypeScript comments, not strings, template text or URLs", () => {
    const text = [
      "// the pipeline: compiler/compile.ts, then compiler/codegen/generate.ts.",
      'const p = "compiler/not-a-comment.ts"; const q = `runtime/also-not.ts`;',
      "/** see specs/language.md and https://example.org/docs/page.md */",
      "const r = 1; // a trailing one: grammar/parser.ts",
    ].join("\n");
    expect(paths("compiler/x.ts", text)).toEqual([
      "compiler/compile.ts",
      "compiler/codegen/generate.ts",
      "specs/language.md",
      "grammar/parser.ts",
    ]);
    expect(citations("compiler/x.ts", text).map((c) => c.line)).toEqual([1, 1, 3, 4]);
  });

  it("takes folders under the top-level ones, globs, and not package names, placeholders or home paths", () => {
    const text =
      "// runtime/data/ and runtime/kernels/gemm*.ts; not rnnc/runtime, @tensorflow/tfjs, <run>/x.json, ~/a/b.ts";
    expect(citations("test/x.ts", text).map((c) => [c.path, c.glob])).toEqual([
      ["runtime/data/", false],
      ["runtime/kernels/gemm", true],
    ]);
  });

  it("takes a file cited by its name alone, but not a product name or the generated module", () => {
    const text = "// built by diagnostics.ts (see perf-notes.md); TensorFlow.js runs model.mjs; compiler/fmt.ts";
    expect(citations("compiler/x.ts", text).map((c) => [c.path, c.bare ?? false])).toEqual([
      ["compiler/fmt.ts", false],
      ["diagnostics.ts", true],
      ["perf-notes.md", true],
    ]);
    const [, known, unknown] = citations("compiler/x.ts", text);
    expect(resolves(ROOT, known!)).toBe(true);
    expect(resolves(ROOT, unknown!)).toBe(false);
  });

  it("reads .rnn comments but not its strings, and a doc's prose but not its samples' strings", () => {
    expect(paths("examples/a.rnn", 'experiment a extends "../b/c.rnn" { } // like examples/quickstart.rnn')).toEqual([
      "examples/quickstart.rnn",
    ]);
    const doc = 'Run `rnnc run examples/quickstart.rnn`.\n```\nexperiment m extends "../z/medium.rnn" { }\n```\n';
    expect(paths("specs/x.md", doc)).toEqual(["examples/quickstart.rnn"]);
  });

  it("finds the folder beside a checkout in code and prose, however it is spelled, but not a folder of that name inside", () => {
    const text = `const d = "${SHARED}";\n// the layout of ${SHARED.slice(3)}/README.md\n// not runtime/shared/x.ts`;
    expect(sharedMentions("test/x.ts", text)).toEqual([
      `test/x.ts:1 ${SHARED}`,
      `test/x.ts:2 ${SHARED.slice(3)}/README.md`,
    ]);
  });

  it("resolves from the citing folder or any folder above it, sources for tsc's output, packages in node_modules", () => {
    expect(resolves(ROOT, cite("compiler/README.md", "cli/fs.ts"))).toBe(true);
    expect(resolves(ROOT, cite("test/x.ts", "compiler/cli/main.ts"))).toBe(true);
    expect(resolves(ROOT, cite("README.md", "dist/compiler/cli/main.js"))).toBe(true);
    expect(resolves(ROOT, cite("grammar/x.ts", "chevrotain/package.json"))).toBe(true);
    expect(resolves(ROOT, cite("test/x.ts", "runtime/"))).toBe(true);
  });

  it("reads a relative path next to the path it is relative to, and a README's paths within the tree beneath it", () => {
    const text = "// examples/merity-2017/medium.rnn extends\n// ../zaremba-2014/medium.rnn, one comment in two lines";
    const [anchor, relative] = citations("compiler/x.ts", text);
    expect(anchor!.path).toBe("examples/merity-2017/medium.rnn");
    expect(resolves(ROOT, relative!)).toBe(true);
    expect(resolves(ROOT, { ...relative!, context: undefined })).toBe(false);
    expect(resolves(ROOT, cite("README.md", "cli/fs.ts"))).toBe(true);
    expect(resolves(ROOT, cite("test/x.ts", "cli/fs.ts"))).toBe(false);
  });

  it("refuses a missing file, a file cited as a folder, a glob nothing matches, and any path outside the root", () => {
    expect(resolves(ROOT, cite("compiler/README.md", "cli/no-such-file.ts"))).toBe(false);
    expect(resolves(ROOT, cite("test/x.ts", "specs/language.md/"))).toBe(false);
    expect(resolves(ROOT, cite("test/x.ts", "runtime/no-such-prefix", true))).toBe(false);
    expect(resolves(ROOT, cite("test/x.ts", "../../package.json"))).toBe(false);
    expect(resolves(ROOT, cite("grammar/x.ts", "chevrotain/no-such-file.js"))).toBe(false);
  });
});

describe("the repository", () => {
  it("checks the comments and docs of every source folder", () => {
    const files = checkedFiles(ROOT);
    for (const f of ["compiler/diagnostics.ts", "runtime/index.ts", "grammar/README.md", "specs/language.md"]) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.includes("/golden/") || f.endsWith(".expected"))).toBe(false);
  });

  it("cites only paths that resolve inside it", () => {
    expect(unresolvedCitations(ROOT)).toEqual([]);
  });

  it("never names the data or notes folder beside a checkout, in code or docs", () => {
    expect(sharedCitations(ROOT)).toEqual([]);
  });
});
