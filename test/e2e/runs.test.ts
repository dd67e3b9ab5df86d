// `rnnc runs`: the run registry, on real run directories. A sweep of two points finishes, a run diverges, one fails
// at its data, one is killed in the middle of training and one is still training: each is listed with its status
// (from status.json, which the runtime writes, checked against the live processes), its epochs and its figures; the
// filters, --json and --csv say the same. The committed Zaremba-small record (older than status.json) is read too.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectExit, requireBuild, rnnc, ROOT, runDirOf, start, tempDir } from "./cli.js";

const runs = tempDir("registry");
const QUICK = ["examples/quickstart.rnn", "--backend", "wasm", "--threads", "1", "--set", "data.tokens=24000"];
let killedDir = "";
let runningDir = "";
let running: ReturnType<typeof start> | null = null;
let sweepOut = "";

interface Row {
  dir: string;
  experiment: string;
  sweep: string | null;
  status: string;
  reason: string | null;
  epochs: number;
  epochsPlanned: number | null;
  valid: number | null;
  test: number | null;
}

const listed = async (...args: string[]): Promise<Row[]> => {
  const r = await rnnc(["runs", runs.path, "--json", ...args]);
  expectExit(r, 0);
  return JSON.parse(r.stdout) as Row[];
};

/** Starts a quickstart run and resolves once its status.json says it is training. */
async function startRun(name: string): Promise<{ child: ReturnType<typeof start>; dir: string }> {
  const child = start(["run", ...QUICK, "--epochs", "50", "--runs", join(runs.path, name)]);
  const err = await child.waitForStderr(/backend: /);
  const dir = /run directory: (.*)/.exec(err)![1]!.trim();
  for (let k = 0; k < 200 && !existsSync(join(dir, "status.json")); k++) await new Promise((r) => setTimeout(r, 50));
  return { child, dir };
}

beforeAll(async () => {
  requireBuild();
  const sweep = await rnnc(["run", "test/cli/fixtures/lr-sweep.rnn#lr_sweep", "--runs", join(runs.path, "sweep")]);
  expectExit(sweep, 0);
  sweepOut = sweep.stdout;
  const diverged = await rnnc(
    ["run", ...QUICK, "--set", "train.optimizer=sgd(lr = 1e6)", "--epochs", "1", "--limit-batches", "30"].concat([
      "--runs",
      join(runs.path, "diverged"),
    ]),
  );
  expectExit(diverged, 1);
  const killed = await startRun("killed");
  killedDir = killed.dir;
  killed.child.kill("SIGKILL");
  await killed.child.done;
  const live = await startRun("running");
  running = live.child;
  runningDir = live.dir;
}, 300_000);
afterAll(async () => {
  running?.kill("SIGKILL");
  await running?.done;
  runs.remove();
});

describe("rnnc runs", () => {
  it("lists every run with its status, epochs and figures", async () => {
    const rows = await listed();
    const by = (part: string): Row[] => rows.filter((r) => r.dir.includes(`/${part}/`));
    expect(
      by("sweep")
        .map((r) => [r.experiment, r.sweep, r.status, r.epochs, r.epochsPlanned])
        .sort(),
    ).toEqual([
      ["lr_sweep[lr=0.5]", "lr_sweep", "finished", 1, 1],
      ["lr_sweep[lr=1]", "lr_sweep", "finished", 1, 1],
    ]);
    for (const r of by("sweep")) expect(r.valid! > 1 && r.test! > 1).toBe(true);
    expect(by("diverged").map((r) => [r.status, r.epochs, r.valid])).toEqual([["diverged", 0, null]]);
    expect(by("killed")).toMatchObject([{ status: "stopped", reason: "its process is gone (killed)", dir: killedDir }]);
    expect(by("running")).toMatchObject([{ status: "running", reason: null, epochsPlanned: 50, dir: runningDir }]);
  });

  it("a sweep ends with one table of its points, best validation first, showing only what varies", () => {
    const table = sweepOut
      .slice(sweepOut.indexOf("\n\n") + 2)
      .trimEnd()
      .split("\n");
    expect(table[0]).toMatch(/^train\.optimizer\.lr +valid perplexity +test perplexity +run$/);
    expect(table).toHaveLength(3);
    const valid = table.slice(1).map((l) => Number(l.split(/ +/)[1]));
    expect(valid[0]).toBeLessThanOrEqual(valid[1]!);
    expect(
      table
        .slice(1)
        .map((l) => l.split(/ +/)[0])
        .sort(),
    ).toEqual(["0.5", "1"]);
  });

  it("filters by experiment, sweep and status", async () => {
    expect((await listed("--sweep", "lr_sweep")).map((r) => r.experiment).sort()).toEqual([
      "lr_sweep[lr=0.5]",
      "lr_sweep[lr=1]",
    ]);
    expect((await listed("--experiment", "lr_sweep[lr=1]")).map((r) => r.experiment)).toEqual(["lr_sweep[lr=1]"]);
    expect((await listed("--status", "diverged")).map((r) => r.status)).toEqual(["diverged"]);
    expect(await listed("--status", "failed")).toEqual([]);
    const bad = await rnnc(["runs", runs.path, "--status", "sleeping"]);
    expectExit(bad, 2);
  });

  it("prints a table by default and CSV with --csv, one line per run", async () => {
    const table = await rnnc(["runs", runs.path]);
    expectExit(table, 0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^run +experiment +status +epochs +valid +test +tok\/s +time +started$/);
    expect(lines).toHaveLength(1 + 5);
    expect(table.stdout).toMatch(/lr_sweep\[lr=1\] +finished +1\/1 +\d+\.\d\d ppl +\d+\.\d\d ppl/);
    const csv = await rnnc(["runs", runs.path, "--csv"]);
    expectExit(csv, 0);
    expect(csv.stdout.split("\n")[0]).toBe(
      "dir,experiment,sweep,status,reason,epochs,epochs_planned,metric,best_epoch,valid,test,tok_per_sec,seconds,started",
    );
    expect(csv.stdout.trimEnd().split("\n")).toHaveLength(1 + 5);
  });

  it("a run that failed is listed as failed, with the error's first line", async () => {
    // What the runtime writes when training throws (test/runtime/status.test.ts makes it do so), on a real run
    // directory whose metrics.jsonl stops before a final line.
    const dir = runDirOf(
      await rnnc(["run", ...QUICK, "--epochs", "1", "--limit-batches", "2", "--runs", join(runs.path, "failed")]),
    );
    const status = JSON.parse(readFileSync(join(dir, "status.json"), "utf8")) as Record<string, unknown>;
    expect(status["state"]).toBe("finished");
    writeFileSync(join(dir, "status.json"), JSON.stringify({ ...status, state: "failed", message: "out of memory" }));
    const metrics = readFileSync(join(dir, "metrics.jsonl"), "utf8");
    writeFileSync(join(dir, "metrics.jsonl"), metrics.replace(/.*"final".*\n/, ""));
    const rows = await listed("--status", "failed");
    expect(rows.map((x) => [x.experiment, x.status, x.reason])).toEqual([["quickstart", "failed", "out of memory"]]);
  }, 120_000);

  it("reads a committed record older than status.json, and refuses a folder that is not one", async () => {
    const r = await rnnc(["runs", join(ROOT, "runs/zaremba_small"), "--json"]);
    expectExit(r, 0);
    expect(JSON.parse(r.stdout)).toMatchObject([
      { experiment: "zaremba_small", status: "finished", epochs: 13, epochsPlanned: 13, bestEpoch: 6 },
    ]);
    const missing = await rnnc(["runs", join(runs.path, "no-such-folder")]);
    expectExit(missing, 1);
    expect(missing.stderr).toMatch(/^rnnc runs: not a folder: .*no-such-folder$/m);
  });
});
