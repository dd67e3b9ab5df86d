// Resuming from a mid-run checkpoint reproduces the uninterrupted run exactly: every loss in metrics.jsonl, the
// final metrics and the final weights, bit for bit. The runtime promises this (runtime/train/driver.ts: the checkpoint
// carries the weights, the optimizer slots and step, the carried hidden state, the dropout-mask RNG, the schedule
// and the partial sums of the epoch in progress), and the spec has dropout so the mask stream must be restored.
//
// Run A trains uninterrupted. Run B is the user's path: Ctrl-C (SIGINT) to `rnnc run` once epoch 1 has been
// reported, which saves last.ckpt and exits with 130, then `rnnc run --resume DIR` with no other flag, as the
// interrupted run tells the user. Run C stops at a fixed point in the middle of epoch 2 (the runtime's
// stopAfterWindows option, through a fixture that drives the generated module), then resumes with the CLI.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { Rng } from "../../runtime/base/rng.js";
import {
  cloneRunDir,
  expectExit,
  expectSameWeights,
  lastLine,
  node,
  readMetrics,
  requireBuild,
  rnnc,
  ROOT,
  runDirOf,
  start,
  tempDir,
  trajectory,
  type Result,
} from "./cli.js";

// 24 000 tokens → 19 200 for training → batch 8 × bptt 16: 150 windows an epoch (a train record at window 100).
const WINDOWS = 150;
const EPOCHS = 3;
const SPEC = [
  "examples/quickstart.rnn",
  "--set",
  "data.tokens=24000",
  "--set",
  "data.batch=8",
  "--set",
  "data.bptt=16",
  "--set",
  "model.layers=1 lstm(32)",
  "--set",
  "dropout.input=0.2",
  "--set",
  "dropout.output=0.3",
  "--set",
  "train.schedule=decay(by = 2, after = 1)",
];
const FLAGS = ["--epochs", String(EPOCHS), "--backend", "wasm"];

const runs = tempDir("resume");
let a: Result;
let dirA = "";

beforeAll(async () => {
  requireBuild();
  a = await rnnc(["run", ...SPEC, ...FLAGS, "--runs", join(runs.path, "a")]);
  expectExit(a, 0);
  dirA = runDirOf(a);
}, 300_000);

afterAll(() => runs.remove());

interface Meta {
  epoch: number;
  nextWindow: number;
  windowsDone: number;
  maskRng: number[];
}

function expectSameAsA(dir: string, resumed: Result): void {
  const want = trajectory(dirA);
  // The trajectory is non-trivial: dropout is on, losses fall, and mid-epoch records exist.
  expect(want.filter((m) => m.event === "train" && m["window"] === 100)).toHaveLength(EPOCHS);
  expect(want.filter((m) => m.event === "epoch")).toHaveLength(EPOCHS);
  expect(trajectory(dir)).toEqual(want);
  expect(lastLine(resumed.stdout)).toBe(lastLine(a.stdout));
  expect(lastLine(a.stdout)).toMatch(/^valid perplexity \d+\.\d\d {2}test perplexity \d+\.\d\d$/);
  expectSameWeights(dirA, dir);
  const env = JSON.parse(readFileSync(join(dir, "env.json"), "utf8")) as {
    resumedFrom: string | null;
    backend: string;
  };
  expect(env.resumedFrom).toBe(join(dir, "last.ckpt"));
  expect(env.backend).toBe("wasm");
}

describe("resume", () => {
  it("the spec really has dropout (the mask RNG is part of the state to restore)", () => {
    const model = readFileSync(join(dirA, "model.ts"), "utf8");
    expect(model).toMatch(/dropout\(/);
    expect(model).not.toMatch(/no input dropout|no output dropout/);
  });

  it("after Ctrl-C (SIGINT, exit 130) and `rnnc run --resume DIR`, reproduces the uninterrupted run bit for bit", async () => {
    const child = start(["run", ...SPEC, ...FLAGS, "--runs", join(runs.path, "b")]);
    // The SIGINT handler is installed once training starts; the first epoch line comes well after that.
    await child.waitForStderr(/^epoch 1\/3 /m);
    child.kill("SIGINT");
    const b = await child.done;
    expectExit(b, 130);
    const dirB = runDirOf(b);
    expect(b.stderr).toMatch(/^interrupt: finishing this step, then saving a checkpoint/m);
    expect(b.stderr).toContain(`saved ${join(dirB, "last.ckpt")}`);
    expect(lastLine(b.stdout)).toBe(`interrupted; the run continues with: rnnc run --resume ${dirB}`);
    expect(readMetrics(dirB).some((m) => m.event === "final")).toBe(false);
    // Stopped in epoch 2 or 3, not at an epoch boundary that a plain end-of-epoch checkpoint would cover.
    const meta = readCheckpoint<Meta>(join(dirB, "last.ckpt")).meta;
    expect(meta.epoch, JSON.stringify(meta)).toBeGreaterThanOrEqual(2);
    expect(meta.nextWindow, JSON.stringify(meta)).toBeGreaterThan(0);
    expect(meta.windowsDone).toBe((meta.epoch - 1) * WINDOWS + meta.nextWindow);

    // Exactly what the interrupted run printed (relative to the same working directory).
    const resumed = await rnnc(["run", "--resume", dirB]);
    expectExit(resumed, 0);
    expect(resumed.stderr).toMatch(
      new RegExp(`^resumed .*last\\.ckpt: epoch ${meta.epoch}, window ${meta.nextWindow}/${WINDOWS}$`, "m"),
    );
    expectSameAsA(dirB, resumed);
  }, 300_000);

  it("from a checkpoint in the middle of epoch 2 (stopAfterWindows), reproduces the uninterrupted run bit for bit", async () => {
    // A fresh run directory with A's generated code, trained in-process up to window 37 of epoch 2.
    const dirC = join(runs.path, "c");
    cloneRunDir(dirA, dirC);
    const stop = WINDOWS + 37;
    const c = await node(join(ROOT, "test/e2e/fixtures/stop-after.mjs"), [dirC, String(stop), String(EPOCHS), "wasm"]);
    expectExit(c, 0);
    expect(c.stdout.trim()).toBe("interrupted");
    const meta = readCheckpoint<Meta>(join(dirC, "last.ckpt")).meta;
    expect([meta.epoch, meta.nextWindow, meta.windowsDone]).toEqual([2, 37, stop]);
    // The mask stream (seeded from train.seed 0, as runtime/train/driver.ts does) has moved on: restoring it matters.
    expect(meta.maskRng).not.toEqual(new Rng(0 ^ 0x5bd1e995).getState());
    // Before resuming, the records up to the stop are A's records up to the stop.
    const before = trajectory(dirC);
    expect(before).toEqual(trajectory(dirA).slice(0, before.length));
    expect(before.map((m) => `${m.event}:${m["epoch"]}:${m["window"] ?? ""}`)).toEqual([
      "train:1:100",
      "train:1:150",
      "epoch:1:",
    ]);

    const resumed = await rnnc(["run", "--resume", dirC]);
    expectExit(resumed, 0);
    expect(resumed.stderr).toMatch(new RegExp(`^resumed .*: epoch 2, window 37/${WINDOWS}$`, "m"));
    expectSameAsA(dirC, resumed);
    // The summary counts every epoch, and says this invocation did only part of them.
    expect(a.stdout).toMatch(/^3 epochs in \S+ on wasm; best epoch \d$/m);
    expect(resumed.stdout).toMatch(
      /^3 epochs, resumed after 1 \(this invocation \S+; \S+ of training in all\) on wasm; best epoch \d$/m,
    );
  }, 300_000);
});
