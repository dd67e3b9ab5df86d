// The fuzz's own parts (bench/fuzz/): the oracle must flag each kind of failure it claims to (or the fuzz test
// could never fail), and the generator must be reproducible and keep every path it writes inside its workspace.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generateCase, loadCorpus, SCRATCH } from "../../bench/fuzz/cases.js";
import { verdict, type CaseResult, type RunOutput } from "../../bench/fuzz/oracle.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const LOCATED_ERROR =
  "error[E0302]: batch must be a positive integer, not 0\n  --> a.rnn:2:20\n   |\n 2 |   data ptb { batch 0 }\n   |                    ^\n\n";
const run = (o: Partial<RunOutput>): CaseResult => ({ inProcess: { code: 0, stdout: "", stderr: "", ...o } });
const classes = (command: string, r: CaseResult): string[] => verdict(command, r).map((f) => f.class);

describe("oracle", () => {
  it("passes a clean run: located errors and exit 1, a usage message and exit 2, a success", () => {
    expect(classes("check", run({ code: 1, stderr: LOCATED_ERROR }))).toEqual([]);
    expect(
      classes("check", run({ code: 1, stderr: "error[E0208]: cannot read 'x.rnn': no such file\n  --> x.rnn\n" })),
    ).toEqual([]);
    expect(classes("diff", run({ code: 1, stderr: "rnnc diff: run/ir.json is not valid JSON (…)\n" }))).toEqual([]);
    expect(classes("fmt", run({ code: 1, stdout: "would reformat a.rnn\n" }))).toEqual([]);
    expect(classes("usage", run({ code: 2, stderr: "error: unknown option '--bogus'\n" }))).toEqual([]);
    expect(
      classes(
        "ir",
        run({ code: 0, stdout: "{}\n", stderr: "warning[W0401]: 'ar' is 0, so it has no effect\n  --> a.rnn:3:16\n" }),
      ),
    ).toEqual([]);
  });

  it("flags exit 3, a signal, a hang, an exception, an async error and process.exit", () => {
    expect(classes("check", run({ code: 3, stderr: "rnnc: internal error: boom\n" }))[0]).toMatch(
      /^in-process: exit 3/,
    );
    expect(classes("check", run({ code: null, signal: "SIGSEGV" }))).toEqual(["in-process: killed by SIGSEGV"]);
    expect(classes("check", run({ code: null, timedOut: true }))).toEqual([
      "in-process: hang (killed at the time limit)",
    ]);
    const stack =
      "TypeError: x is undefined\n    at f (file:///r/dist/compiler/lower.js:10:5)\n    at g (node:internal/x:1:1)";
    expect(classes("check", run({ code: null, exception: { message: "x is undefined", stack } }))).toEqual([
      "in-process: internal error (exception in compiler/lower.ts): x is undefined",
    ]);
    expect(classes("check", run({ code: 1, stderr: LOCATED_ERROR, asyncError: { message: "late", stack } }))).toEqual([
      "in-process: unhandled async error (compiler/lower.ts): late",
    ]);
    expect(classes("check", run({ code: 1, stderr: LOCATED_ERROR, exitCalled: 1 }))).toEqual([
      "in-process: process.exit(1) inside a command",
    ]);
    expect(
      classes("check", {
        inProcess: { code: null, stdout: "", stderr: "" },
        crashed: "the worker exited with code 134 during the case",
      })[0],
    ).toMatch(/^crash: /);
  });

  it("flags a stack trace or a Node error in the output, even with a good exit code", () => {
    expect(
      classes(
        "check",
        run({ code: 1, stderr: `${LOCATED_ERROR}    at walk (file:///r/dist/compiler/cli/main.js:24:24)\n` }),
      ),
    ).toContain("in-process: stack trace in the output");
    expect(classes("check", run({ code: 2, stderr: "TypeError [ERR_INVALID_ARG_TYPE]: bad\n" }))[0]).toMatch(
      /Node error in the output/,
    );
  });

  it("flags an unlocated diagnostic, an exit 1 that says nothing, an exit 2 that says nothing, an error with exit 0", () => {
    expect(
      classes(
        "check",
        run({ code: 1, stderr: "error[E0302]: batch must be a positive integer, not 0\n  --> a.rnn\n" }),
      ),
    ).toEqual(["in-process: E0302 not located"]);
    expect(classes("check", run({ code: 1, stdout: "FAIL  a.rnn\n" }))).toEqual([
      "in-process: exit 1 without an error message",
    ]);
    expect(classes("check", run({ code: 2 }))).toEqual(["in-process: exit 2 without a message"]);
    expect(classes("check", run({ code: 0, stderr: LOCATED_ERROR }))).toEqual([
      "in-process: an error reported, but exit 0",
    ]);
  });

  it("flags a raw line terminator, control or bidi character in stderr (terminalText escapes them), and reads the header around it", () => {
    expect(
      classes("check", run({ code: 1, stderr: 'error[E0100]: unexpected character "\\u2029"\n  --> a.rnn:71:1\n' })),
    ).toEqual([]);
    expect(
      classes("check", run({ code: 1, stderr: 'error[E0100]: unexpected character "\u2029"\n  --> a.rnn:71:1\n' })),
    ).toEqual(["in-process: a raw U+2029 in stderr"]);
    expect(
      classes(
        "check",
        run({ code: 1, stderr: "error[E0208]: cannot read 'a\rb\u202e.rnn': no such file\n  --> a\rb\u202e.rnn\n" }),
      ),
    ).toEqual(["in-process: a raw U+000D in stderr"]);
    expect(classes("check", run({ code: 1, stderr: "rnnc check: \x1b[2Jcleared\n" }))).toEqual([
      "in-process: a raw U+001B in stderr",
    ]);
  });

  it("flags an in-process run and a binary run of one case that disagree, and a binary failure on its own", () => {
    const same: RunOutput = { code: 1, stdout: "", stderr: LOCATED_ERROR };
    expect(classes("check", { inProcess: same, binary: same })).toEqual([]);
    expect(
      classes("check", { inProcess: same, binary: { ...same, code: 3, stderr: "rnnc: internal error: x\n" } }),
    ).toEqual(
      expect.arrayContaining(["binary: exit 3: rnnc: internal error: x", "in-process and binary differ (exit 1 vs 3)"]),
    );
  });

  it("flags fmt output that is not a fixed point, or that changes what the spec means", () => {
    const ok: RunOutput = { code: 0, stdout: "", stderr: "" };
    expect(
      classes("fmt", { inProcess: ok, roundtrip: { recheck: ok, before: ["E0302"], after: ["E0302"], formatted: "" } }),
    ).toEqual([]);
    expect(
      classes("fmt", {
        inProcess: ok,
        roundtrip: {
          recheck: { ...ok, code: 1, stdout: "would reformat a.rnn\n" },
          before: [],
          after: [],
          formatted: "",
        },
      })[0],
    ).toMatch(/not a fixed point/);
    expect(
      classes("fmt", { inProcess: ok, roundtrip: { recheck: ok, before: [], after: ["E0103"], formatted: "" } })[0],
    ).toMatch(/changes the meaning/);
  });
});

describe("case generator", () => {
  const corpus = loadCorpus(ROOT);
  const cases = Array.from({ length: 1500 }, (_, id) => generateCase(corpus, 7, id));

  it("is reproducible: one seed and id give one case; another seed another", () => {
    expect(generateCase(corpus, 7, 42)).toEqual(cases[42]);
    expect(JSON.stringify(generateCase(corpus, 8, 42))).not.toEqual(JSON.stringify(cases[42]));
  });

  it("mixes the four families and every command", () => {
    const by = (k: "family" | "command") => new Set(cases.map((c) => c[k]));
    expect([...by("family")].sort()).toEqual(["argv", "bytes", "set", "spec"]);
    expect([...by("command")].sort()).toEqual([
      "build",
      "check",
      "diff",
      "export",
      "fmt",
      "ir",
      "plot",
      "report",
      "runs",
      "sample",
      "set",
      "usage",
    ]);
  });

  it("writes only inside its workspace, and points -o only into its scratch folder", () => {
    const inside = (p: string): boolean => !p.startsWith("/") && !p.split("/").includes("..") && p !== "";
    for (const c of cases) {
      for (const p of [...c.files.map((f) => f.path), ...c.dirs, ...c.symlinks.map((l) => l.path)])
        expect(inside(p), `${c.id}: ${p}`).toBe(true);
      // As commander reads the line: a flag that takes a value takes the next argument, whatever it is.
      for (let i = 0; i < c.argv.length; i++) {
        const a = c.argv[i]!;
        if (a === "--") break;
        if (a === "-o" || a === "--out") {
          const v = c.argv[i + 1];
          if (v !== undefined) expect(v.startsWith(`${SCRATCH}/`), `${c.id}: ${c.argv.join(" ")}`).toBe(true);
        }
        if (["-o", "--out", "--set", "--max-memory", "--resume", "--epochs"].includes(a)) i++;
      }
      // `run` appears only as a usage error (SPEC or --set with --resume), which stops before any training.
      if (c.argv[0] === "run") expect(c.argv).toEqual(expect.arrayContaining(["--resume", "--set"]));
    }
  });
});
