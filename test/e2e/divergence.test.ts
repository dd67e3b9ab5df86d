// Divergence stops a run (specs/language.md, "Divergence"). SGD at lr 1e6 on the quickstart diverges at once but
// stays finite (measured: 5.3e5 nats per token against ln 16 = 2.77); before the rule it trained to the end and
// exited 0 with "test perplexity Infinity". Now it stops with exit 1 and a message naming the loss, the limit and
// where; the run directory records why; a checkpoint written before the divergence is kept bit for bit; and
// `divergence off` lets the run go on, without ever calling an Infinity perplexity the best.
// The first window of a run is healthy (its loss is measured before its update), so with the default rule of 20
// windows the stop comes at window 21.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectExit, lastLine, node, readMetrics, requireBuild, rnnc, ROOT, runDirOf, tempDir } from "./cli.js";

const QUICK = ["examples/quickstart.rnn", "--backend", "wasm"];
const DIVERGING = ["--set", "train.optimizer=sgd(lr = 1e6)"];
const RESUME_DIVERGING = join(ROOT, "test/e2e/fixtures/resume-diverging.mjs");

const runs = tempDir("divergence");
beforeAll(requireBuild);
afterAll(() => runs.remove());

const checkpoints = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => n.includes("ckpt"))
    .sort();

describe("a diverged but finite run", () => {
  it("stops with exit 1 and says what it saw, the limit and what to try; the run directory records why", async () => {
    const r = await rnnc([
      "run",
      ...QUICK,
      ...DIVERGING,
      "--epochs",
      "1",
      "--limit-batches",
      "30",
      "--runs",
      runs.path,
    ]);
    expectExit(r, 1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^rnnc run: the training loss diverged at epoch 1, window 21\/30: 20 windows in a row above 3\.773 nats per token \(ln 16 = 2\.773, a uniform guess, \+ margin 1\); the last was \d\.\d\de\+\d+: stopped\. No checkpoint had been written yet\. Lower the learning rate or add clipping in the spec \(or with --set\)\. To let such a run go on regardless, set `divergence off` in its train block\.$/m,
    );
    const dir = runDirOf(r);
    expect(checkpoints(dir)).toEqual([]);
    const metrics = readMetrics(dir);
    expect(metrics.at(-1)).toMatchObject({
      event: "stopped",
      reason: "diverged",
      phase: "training",
      epoch: 1,
      window: 21,
      limit: Math.log(16) + 1,
      windows: 20,
    });
    expect(metrics.at(-1)!["loss"] as number).toBeGreaterThan(1e4);
    expect(metrics.some((m) => m.event === "final" || m.event === "epoch")).toBe(false);
  }, 120_000);

  it("follows the rule set with --set (train.divergence=…)", async () => {
    const r = await rnnc([
      "run",
      ...QUICK,
      ...DIVERGING,
      "--set",
      "train.divergence=above_uniform(margin = 2, windows = 4)",
      "--epochs",
      "1",
      "--limit-batches",
      "30",
      "--runs",
      runs.path,
    ]);
    expectExit(r, 1);
    expect(r.stderr).toMatch(
      /^rnnc run: the training loss diverged at epoch 1, window 5\/30: 4 windows in a row above 4\.773 nats per token \(ln 16 = 2\.773, a uniform guess, \+ margin 2\)/m,
    );
  }, 120_000);

  it("with `divergence off` runs to the end (exit 0), and an epoch whose perplexity is Infinity is never the best", async () => {
    const r = await rnnc([
      "run",
      ...QUICK,
      ...DIVERGING,
      "--set",
      "train.divergence=off",
      "--epochs",
      "2",
      "--limit-batches",
      "3",
      "--runs",
      runs.path,
    ]);
    expectExit(r, 0);
    expect(lastLine(r.stdout)).toBe("valid perplexity Infinity  test perplexity Infinity");
    const dir = runDirOf(r);
    const metrics = readMetrics(dir);
    expect(metrics.filter((m) => m.event === "epoch").map((m) => m["best"])).toEqual([false, false]);
    expect(metrics.find((m) => m.event === "final")).toMatchObject({ bestEpoch: null });
    expect(metrics.some((m) => m.event === "stopped")).toBe(false);
    expect(checkpoints(dir)).toEqual(["last.ckpt"]); // no best.ckpt: no epoch was
  }, 120_000);

  it("keeps the checkpoints written before it diverged, bit for bit, mid-epoch saves included", async () => {
    // A healthy epoch (SGD at lr 0.5) writes last.ckpt and best.ckpt; then the same run resumes at lr 1e6 with a
    // mid-epoch checkpoint due after every window. The first window's update is the diverging one, and its loss
    // was measured before it, so only the probe of the weights keeps that first save from replacing last.ckpt.
    const ok = await rnnc([
      "run",
      ...QUICK,
      "--set",
      "train.optimizer=sgd(lr = 0.5)",
      "--epochs",
      "1",
      "--limit-batches",
      "3",
      "--runs",
      runs.path,
    ]);
    expectExit(ok, 0);
    const dir = runDirOf(ok);
    expect(checkpoints(dir)).toEqual(["best.ckpt", "last.ckpt"]);
    const before = { last: readFileSync(join(dir, "last.ckpt")), best: readFileSync(join(dir, "best.ckpt")) };

    const r = await node(RESUME_DIVERGING, [dir, "1e6", "2", "30"]);
    expectExit(r, 1);
    const last = join(dir, "last.ckpt");
    expect(r.stderr).toMatch(
      /^the training loss diverged at epoch 2, window 21\/30: 20 windows in a row above 3\.773 nats per token/m,
    );
    expect(r.stderr).toContain(`The last good checkpoint is ${last} (not overwritten).`);
    expect(readFileSync(last).equals(before.last), "last.ckpt is byte for byte the healthy epoch's").toBe(true);
    expect(readFileSync(join(dir, "best.ckpt")).equals(before.best), "best.ckpt too").toBe(true);
    expect(checkpoints(dir)).toEqual(["best.ckpt", "last.ckpt"]); // no temp file left behind
    expect(readMetrics(dir).at(-1)).toMatchObject({ event: "stopped", reason: "diverged", epoch: 2, window: 21 });
    expect(existsSync(join(dir, "last.ckpt"))).toBe(true);
  }, 120_000);
});

describe("the classifier loop (pMNIST, shrunk to seconds: batches of 4, an lstm(8))", () => {
  // The data are MNIST's files under RNNC_DATA; every evaluation is cut to --limit-batches batches of 4 images.
  const PMNIST = [
    "examples/cooijmans-2017/pmnist-lstm.rnn",
    "--backend",
    "wasm",
    "--set",
    "data.batch=4",
    "--set",
    "data.eval_batch=4",
    "--set",
    "data.test_batch=4",
    "--set",
    "model.layers=1 lstm(8)",
    "--set",
    "train.divergence=above_uniform(windows = 2)",
  ];

  it("stops the same way, against ln 10, counting batches; checkpoints from before are kept bit for bit", async () => {
    const r = await rnnc([
      "run",
      ...PMNIST,
      ...DIVERGING,
      "--epochs",
      "1",
      "--limit-batches",
      "5",
      "--runs",
      runs.path,
    ]);
    expectExit(r, 1);
    expect(r.stderr).toMatch(
      /^rnnc run: the training loss diverged at epoch 1, batch 3\/5: 2 batches in a row above 3\.303 nats per image \(ln 10 = 2\.303, a uniform guess, \+ margin 1\); the last was .*: stopped\. No checkpoint had been written yet\./m,
    );
    expect(readMetrics(runDirOf(r)).at(-1)).toMatchObject({
      event: "stopped",
      reason: "diverged",
      phase: "training",
      epoch: 1,
      batch: 3,
      windows: 2,
    });

    // A healthy epoch (its own rate), then the same run resumed at lr 1e6.
    const ok = await rnnc(["run", ...PMNIST, "--epochs", "1", "--limit-batches", "3", "--runs", runs.path]);
    expectExit(ok, 0);
    const dir = runDirOf(ok);
    expect(checkpoints(dir)).toEqual(["best.ckpt", "last.ckpt"]);
    const before = { last: readFileSync(join(dir, "last.ckpt")), best: readFileSync(join(dir, "best.ckpt")) };
    const d = await node(RESUME_DIVERGING, [dir, "1e6", "2", "5"]);
    expectExit(d, 1);
    expect(d.stderr).toMatch(/^the training loss diverged at epoch 2, batch 3\/5: 2 batches in a row/m);
    expect(d.stderr).toContain(`The last good checkpoint is ${join(dir, "last.ckpt")} (not overwritten).`);
    expect(readFileSync(join(dir, "last.ckpt")).equals(before.last)).toBe(true);
    expect(readFileSync(join(dir, "best.ckpt")).equals(before.best)).toBe(true);
  }, 180_000);
});
