// Exact resume with the state that AWD-style training adds: NT-ASGD's averaged weights and trigger, variable-length
// BPTT windows and a random crop (both drawn per epoch from the seed). Run A trains 4 epochs uninterrupted; the
// trigger fires after epoch 3 (its validation loss is worse than epoch 1's). Run C stops 20 windows into epoch 4,
// after the trigger, and resumes with the CLI: the trajectory, the final line and the weights match A bit for bit.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
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
  tempDir,
  trajectory,
  type Result,
} from "./cli.js";

const SPEC = [
  "examples/quickstart.rnn",
  "--set",
  "data.tokens=24000",
  "--set",
  "data.batch=8",
  "--set",
  "data.bptt=16",
  "--set",
  "data.random_crop=true",
  "--set",
  "model.layers=1 lstm(32)",
  "--set",
  "train.optimizer=ntasgd(lr = 40, nonmono = 1)",
  "--set",
  "train.clip=0.25",
  "--set",
  "train.bptt=variable(p = 0.95, std = 5)",
  "--set",
  "train.schedule=constant",
];
const EPOCHS = 4;
const runs = tempDir("resume-awd");
let a: Result;
let dirA = "";

beforeAll(async () => {
  requireBuild();
  a = await rnnc([
    "run",
    ...SPEC,
    "--epochs",
    String(EPOCHS),
    "--backend",
    "wasm",
    "--threads",
    "1",
    "--runs",
    join(runs.path, "a"),
  ]);
  expectExit(a, 0);
  dirA = runDirOf(a);
}, 300_000);
afterAll(() => runs.remove());

describe("resume under NT-ASGD, variable BPTT and random crop", () => {
  it("the run is what it claims: the trigger fired after epoch 3, and epochs have different window counts", () => {
    const m = readMetrics(dirA);
    expect(m.filter((x) => x.event === "ntasgd").map((x) => x["epoch"])).toEqual([3]);
    const counts = m.filter((x) => x.event === "train" && x["window"] === x["windows"]).map((x) => x["windows"]);
    expect(counts).toHaveLength(EPOCHS);
    expect(new Set(counts).size).toBeGreaterThan(1);
  });

  it("from the middle of epoch 4 (after the trigger), reproduces the uninterrupted run bit for bit", async () => {
    const perEpoch = readMetrics(dirA)
      .filter((x) => x.event === "train" && x["window"] === x["windows"])
      .map((x) => x["windows"] as number);
    const stop = perEpoch[0]! + perEpoch[1]! + perEpoch[2]! + 20;
    const dirC = join(runs.path, "c");
    cloneRunDir(dirA, dirC);
    const c = await node(join(ROOT, "test/e2e/fixtures/stop-after.mjs"), [dirC, String(stop), String(EPOCHS), "wasm"], {
      env: {},
    });
    expectExit(c, 0);
    const meta = readCheckpoint<{ epoch: number; nextWindow: number; averagingSince: number | null }>(
      join(dirC, "last.ckpt"),
    ).meta;
    expect([meta.epoch, meta.nextWindow]).toEqual([4, 20]);
    expect(meta.averagingSince).not.toBeNull();
    const resumed = await rnnc(["run", "--resume", dirC, "--threads", "1"]);
    expectExit(resumed, 0);
    expect(trajectory(dirC)).toEqual(trajectory(dirA));
    expect(lastLine(resumed.stdout)).toBe(lastLine(a.stdout));
    expect(readCheckpoint(join(dirA, "last.ckpt")).tensors.some((t) => t.name.endsWith("/ax"))).toBe(true); // the averages are checkpointed
    expectSameWeights(dirA, dirC);
  }, 300_000);
});
