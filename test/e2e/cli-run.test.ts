// `rnnc run` and `rnnc build` on user errors, through the built binary: a technique code generation cannot do
// yet (E0500, naming it), a data set that is not there (where to put it; no network is tried), bad `--set`
// overrides (a located diagnostic, or a usage error) and a bad --resume. Exit 1 for errors in the input, 2 for
// usage; never a stack trace; nothing trained and no run directory left for a refused spec.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, childEnv, expectExit, requireBuild, ROOT, rnnc, tempDir, type Result } from "./cli.js";

const tmp = tempDir("cli-run");
beforeAll(requireBuild);
afterAll(() => tmp.remove());

let n = 0;
/** A fresh, empty folder under the temp dir. */
function fresh(name: string): string {
  const p = join(tmp.path, `${name}-${n++}`);
  mkdirSync(p);
  return p;
}

describe("a spec using a technique that is not supported yet", () => {
  // The one technique still refused: noise on a language model's initial state. `rnnc check` refuses it as well: the
  // support rule runs in compile() with every other check.
  const spec = "test/compiler/diagnostics/E0500-not-yet-supported.rnn";
  const message = /error\[E0500\]: noise on the initial state of a language model is not yet supported/;
  it.each([
    ["run", spec, [message], `${spec}:7:25`],
    ["build", spec, [message], `${spec}:7:25`],
    ["check", spec, [message], `${spec}:7:25`],
  ] as const)("rnnc %s %s is refused with E0500 naming the feature", async (command, spec, messages, at) => {
    const out = fresh("out");
    const args =
      command === "run"
        ? ["run", spec, "--runs", out]
        : command === "build"
          ? ["build", spec, "-o", out]
          : ["check", spec];
    const r = await rnnc(args);
    expectExit(r, 1);
    for (const m of messages) expect(r.stderr).toMatch(m);
    expect(r.stderr).toContain(`--> ${at}`);
    expect(r.stderr).toContain(
      "the rest of the spec is valid; this technique's training code arrives in a later release",
    );
    // `check` ends with its summary; build and run print nothing on stdout.
    if (command === "check") expect(r.stdout).toContain("checked 1 file, 0 experiments: 1 error, 0 warnings");
    else expect(r.stdout).toBe("");
    expect(r.stderr).not.toMatch(/run directory:|backend:/); // refused before anything is written or trained
    expect(readdirSync(out)).toEqual([]);
  });
});

describe("a data set that is not there", () => {
  const expectMissingPtb = (stderr: string, root: string): void => {
    expect(stderr).toMatch(/^rnnc run: Data set "ptb" is not complete\. Expected folder: (.+)$/m);
    expect(stderr).toContain(`Expected folder: ${join(root, "ptb")}`);
    for (const f of ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"])
      expect(stderr).toMatch(new RegExp(`^\\s+${f.replace(/\./g, "\\.")}\\s+missing`, "m"));
    expect(stderr).toContain("To fix: put the files there, or point RNNC_DATA / --data at a folder that has them.");
    // The download was tried from the mirror the environment names, which refuses at once: no network access.
    expect(stderr).toContain("http://127.0.0.1:9/ptb/ptb.train.txt");
    expect(stderr).toContain("No partial file was kept.");
    // Nothing left behind in the data folder that a later run could take for the data set.
    expect(existsSync(join(root, "ptb")) ? readdirSync(join(root, "ptb")) : []).toEqual([]);
  };

  it("with --data: a clear error saying which folder and files, exit 1, no stack trace, no run directory left", async () => {
    const data = fresh("data");
    const runs = fresh("runs");
    const r = await rnnc([
      "run",
      "examples/zaremba-2014/small.rnn",
      "--data",
      data,
      "--epochs",
      "1",
      "--limit-batches",
      "1",
      "--runs",
      runs,
    ]);
    expectExit(r, 1);
    expect(r.stdout).toBe("");
    expectMissingPtb(r.stderr, data);
    expect(readdirSync(runs)).toEqual([]);
  });

  it("with RNNC_DATA: the same error names that folder", async () => {
    const data = fresh("data");
    const r = await rnnc(
      ["run", "examples/zaremba-2014/small.rnn", "--epochs", "1", "--limit-batches", "1", "--runs", fresh("runs")],
      { env: { RNNC_DATA: data } },
    );
    expectExit(r, 1);
    expectMissingPtb(r.stderr, data);
  });
});

describe("bad --set overrides", () => {
  it("an unknown key: a located diagnostic with a suggestion, exit 1, nothing run", async () => {
    const runs = fresh("runs");
    const r = await rnnc(["run", "examples/quickstart.rnn", "--set", "train.epoch=5", "--runs", runs]);
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^error\[E0206\]: unknown setting 'epoch' in train; did you mean 'epochs'\?$/m);
    // The code frame shows the argument as typed, the caret under the key: `--set:1:7` is the first --set, column 7.
    expect(r.stderr).toContain(" --> --set:1:7\n  |\n1 | train.epoch=5\n  |       ^^^^^\n");
    expect(r.stderr).toContain("did you mean 'epochs'?");
    expect(readdirSync(runs)).toEqual([]);
  });

  it("a bad value: a located diagnostic, exit 1 (rnnc build too)", async () => {
    const out = fresh("out");
    const r = await rnnc([
      "build",
      "examples/quickstart.rnn",
      "--set",
      "data.batch=8",
      "--set",
      "data.tokens=-5",
      "-o",
      out,
    ]);
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^error\[E0302\]: .*-5/m);
    expect(r.stderr).toContain(" --> --set:2:13\n  |\n2 | data.tokens=-5\n  |             ^^\n"); // the second --set
    expect(readdirSync(out)).toEqual([]);
  });

  it("a value that does not parse: a located syntax diagnostic, exit 1", async () => {
    const r = await rnnc([
      "run",
      "examples/quickstart.rnn",
      "--set",
      "model.layers=1 lstm(32",
      "--runs",
      fresh("runs"),
    ]);
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^error\[E01\d\d\]: /m);
    expect(r.stderr).toContain(" --> --set:1:23\n"); // just after the argument, where the ')' is missing
  });

  it("not BLOCK.KEY=VALUE, or an unknown block: a usage error, exit 2", async () => {
    for (const set of ["nonsense", "trian.epochs=5"]) {
      const r = await rnnc(["run", "examples/quickstart.rnn", "--set", set, "--runs", fresh("runs")]);
      expectExit(r, 2);
      expect(r.stderr).toContain(
        `rnnc run: --set ${JSON.stringify(set)}: expected BLOCK.KEY=VALUE with BLOCK one of data, task, model, dropout, regularize, train`,
      );
    }
  });
});

describe("bad --resume", () => {
  it("a folder that is not a run directory: exit 1 and what it needs", async () => {
    const dir = fresh("not-a-run");
    const r = await rnnc(["run", "--resume", dir]);
    expectExit(r, 1);
    expect(r.stderr).toBe(
      `rnnc run: ${dir} is not a run directory with a checkpoint (it needs model.mjs and last.ckpt)\n`,
    );
  });

  it("with a SPEC or --set: a usage error, exit 2", async () => {
    const dir = fresh("not-a-run");
    for (const extra of [["examples/quickstart.rnn"], ["--set", "train.epochs=2"]]) {
      const r = await rnnc(["run", "--resume", dir, ...extra]);
      expectExit(r, 2);
      expect(r.stderr).toContain("--resume continues a run with its own generated code; give no SPEC or --set with it");
    }
  });
});

describe("a training window too large for the wasm heap", () => {
  it("is reported as memory, with the sizes and the ways out, not as an internal error", async () => {
    // 1000 × 1000 tokens through lstm(1024): the input projection alone is 16 GB, past wasm32's 4 GiB at once.
    // The memory guard (E0311) refuses it on wasm before anything is allocated; --max-memory, given, replaces the
    // backend's limit and lets it through, so that the runtime's own report of an exhausted heap is exercised.
    const big = [
      "--set",
      "data.tokens=2000000",
      "--set",
      "data.batch=1000",
      "--set",
      "data.bptt=1000",
      "--set",
      "model.layers=1 lstm(1024)",
      "--max-memory",
      "100GiB",
    ];
    const r = await rnnc([
      "run",
      "examples/quickstart.rnn",
      ...big,
      "--backend",
      "wasm",
      "--threads",
      "1",
      "--limit-batches",
      "1",
      "--runs",
      fresh("runs"),
    ]);
    expectExit(r, 1);
    expect(r.stderr).toContain(
      "rnnc run: the wasm backend ran out of memory (its heap is at most 4 GiB). This experiment trains on windows of batch 1000 × bptt 1000 through lstm(1024).",
    );
    expect(r.stderr).toContain("--set data.batch=32");
    expect(r.stderr).not.toContain("internal error");
  }, 120_000);
});

describe("rnnc run FILE#SWEEP", () => {
  it("trains each point of that sweep in its own run directory, and not the file's other experiments", async () => {
    const runs = fresh("runs");
    const r = await rnnc([
      "run",
      "test/cli/fixtures/lr-sweep.rnn#lr_sweep",
      "--limit-batches",
      "2",
      "--backend",
      "wasm",
      "--threads",
      "1",
      "--runs",
      runs,
    ]);
    expectExit(r, 0);
    expect(r.stderr).toContain("test/cli/fixtures/lr-sweep.rnn: 2 experiments, trained in turn");
    expect(readdirSync(runs).sort()).toEqual(["lr_sweep.lr=0.5", "lr_sweep.lr=1"]);
    expect(r.stdout).toMatch(/^lr_sweep\[lr=0\.5\]: valid perplexity \d+\.\d\d {2}test perplexity \d+\.\d\d$/m);
    expect(r.stdout).toMatch(/^lr_sweep\[lr=1\]: valid perplexity \d+\.\d\d {2}test perplexity \d+\.\d\d$/m);
  }, 120_000);
});

/** rnnc with the file `spec` on its stdin through a pipe (a shell's `cat | rnnc`): `/dev/stdin` can be read once only. */
function rnncFromPipe(args: readonly string[], spec: string): Promise<Result> {
  // Not node's stdin "pipe", which is a socket on Linux: rnnc refuses that as a spec (not a regular file).
  const script = 'f=$1; shift; cat "$f" | "$@"';
  const child = spawn("/bin/sh", ["-c", script, "sh", spec, process.execPath, BIN, ...args], {
    cwd: ROOT,
    env: childEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out.stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (status, signal) => resolve({ status, signal, ...out })));
}

describe("a spec read from a pipe (each command compiles its file once)", () => {
  const sweep = "test/cli/fixtures/lr-sweep.rnn";
  // A second compile found the pipe empty: `rnnc build /dev/stdin` failed with E0208, and `rnnc run` of a sweep
  // failed at its first point, having compiled the file once to list the points.
  it("rnnc build /dev/stdin builds it", async () => {
    const r = await rnncFromPipe(["build", "/dev/stdin#base"], sweep);
    expectExit(r, 0);
    expect(r.stdout).toContain("export class BaseModel implements LanguageModel");
  });

  it("rnnc run /dev/stdin#SWEEP trains every point", async () => {
    const runs = fresh("runs");
    const r = await rnncFromPipe(
      ["run", "/dev/stdin#lr_sweep", "--limit-batches", "1", "--backend", "wasm", "--threads", "1", "--runs", runs],
      sweep,
    );
    expectExit(r, 0);
    expect(readdirSync(runs).sort()).toEqual(["lr_sweep.lr=0.5", "lr_sweep.lr=1"]);
    expect(r.stdout).toMatch(/^lr_sweep\[lr=1\]: valid perplexity \d+\.\d\d {2}test perplexity \d+\.\d\d$/m);
  }, 120_000);
});
