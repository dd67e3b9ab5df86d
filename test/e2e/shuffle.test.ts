// `data { stateful false  shuffle }` end to end, with the rest of Cooijmans et al.'s PTB-char framing (§5.2: "we
// segment the training sequence into examples of length 100 … for each epoch we randomly crop a subsequence that
// does and segment that instead"; §2.1: learned initial states). Each epoch trains on a fresh order of independent
// examples; a run stopped in the middle of an epoch resumes onto the same order and matches an uninterrupted run
// bit for bit.
import { readFileSync } from "node:fs";
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

const TOKENS = 24_000; // the synthetic corpus
const [BATCH, BPTT] = [8, 16];
const SETTINGS = {
  "data.tokens": String(TOKENS),
  "data.batch": String(BATCH),
  "data.bptt": String(BPTT),
  "data.stateful": "false",
  "data.shuffle": "true",
  "data.random_crop": "true",
  "model.layers": "1 lstm(32)",
  "model.initial_state": "learned",
};
const SPEC = ["examples/quickstart.rnn", ...Object.entries(SETTINGS).flatMap(([k, v]) => ["--set", `${k}=${v}`])];
const EPOCHS = 2;
const runs = tempDir("shuffle");
let a: Result;
let dirA = "";

beforeAll(async () => {
  requireBuild();
  a = await rnnc(
    ["run", ...SPEC, "--epochs", String(EPOCHS), "--backend", "wasm", "--threads", "1"].concat([
      "--runs",
      join(runs.path, "a"),
    ]),
  );
  expectExit(a, 0);
  dirA = runDirOf(a);
}, 300_000);
afterAll(() => runs.remove());

describe("shuffle: independent examples in a fresh order every epoch", () => {
  it("rnnc build passes it to the runtime with where it was set", async () => {
    const r = await rnnc(["build", ...SPEC]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/stateful: false,\s+randomCrop: true,\s+shuffle: true,/);
  });

  it("an epoch is the examples that fit after the crop, in whole batches", () => {
    const perEpoch = readMetrics(dirA).filter((x) => x.event === "train" && x["window"] === x["windows"]);
    expect(perEpoch).toHaveLength(EPOCHS);
    const tokens = JSON.parse(readFileSync(join(dirA, "env.json"), "utf8")).trainTokens as number;
    for (const e of perEpoch) {
      // offset in [0, bptt): between ⌊(tokens − 1 − 15)/16⌋ and ⌊(tokens − 1)/16⌋ examples, ⌊·/8⌋ batches
      const windows = e["windows"] as number;
      expect(windows).toBeGreaterThanOrEqual(Math.floor(Math.floor((tokens - BPTT) / BPTT) / BATCH));
      expect(windows).toBeLessThanOrEqual(Math.floor(Math.floor((tokens - 1) / BPTT) / BATCH));
    }
  });

  it("from the middle of epoch 2, reproduces the uninterrupted run bit for bit", async () => {
    const first = readMetrics(dirA).find((x) => x.event === "train" && x["window"] === x["windows"])!;
    const stop = (first["windows"] as number) + 30;
    const dirC = join(runs.path, "c");
    cloneRunDir(dirA, dirC);
    const c = await node(join(ROOT, "test/e2e/fixtures/stop-after.mjs"), [dirC, String(stop), String(EPOCHS), "wasm"], {
      env: {},
    });
    expectExit(c, 0);
    const meta = readCheckpoint<{ epoch: number; nextWindow: number }>(join(dirC, "last.ckpt")).meta;
    expect([meta.epoch, meta.nextWindow]).toEqual([2, 30]);
    const resumed = await rnnc(["run", "--resume", dirC, "--threads", "1"]);
    expectExit(resumed, 0);
    expect(trajectory(dirC)).toEqual(trajectory(dirA));
    expect(lastLine(resumed.stdout)).toBe(lastLine(a.stdout));
    expectSameWeights(dirA, dirC);
  }, 300_000);
});
