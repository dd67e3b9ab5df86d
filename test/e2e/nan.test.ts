// A loss that turns NaN stops the run with a clear message (exit 1, no stack trace) and keeps the last good
// checkpoint, whose values are all finite.
//
// Divergence on purpose: Adam at lr 4e18 without clipping moves every weight by about 4e18 a step, and once two
// weights of that size meet in a product float32 overflows and the loss becomes NaN. Epochs are cut to 3 windows
// so that end-of-epoch checkpoints are written before that. Measured (wasm backend): NaN at epoch 5, window 2 (the
// 14th window); nearby rates 5e18 and 7e18 put it at windows 9 and 6, so the assertion below (after epoch 1,
// i.e. past window 3, with a checkpoint written) has room on both sides. At lr 1e30 the loss is NaN at once.
// These rates hold for matMuls that round each product, as XNNPACK's do: they run with RNNC_GEMM=xnnpack. rnnc's
// own GEMM (runtime/accel/kernels/gemm.ts) fuses multiply and add, so a product that exceeds float32 is never rounded
// to ±Infinity on its own and no Infinity − Infinity makes a NaN: the same runs diverge to a huge finite loss
// (about 1e19 at lr 4e18 after one epoch), and the rate at which its loss sum overflows instead scatters from
// epoch 2 to never between 3e33 and 7e33 (measured). What this file checks is the trainer's stop, not the GEMM.
const ROUNDED_PRODUCTS = { env: { RNNC_GEMM: "xnnpack" } };
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { expectExit, readMetrics, requireBuild, rnnc, runDirOf, tempDir } from "./cli.js";

const SMALL = [
  "examples/quickstart.rnn",
  "--set",
  "data.tokens=20000",
  "--set",
  "model.layers=1 lstm(32)",
  "--set",
  "train.clip=none",
  "--set",
  "train.schedule=constant",
  // The divergence rule (divergence.test.ts) would stop these runs earlier, on their huge finite losses: off, only a
  // NaN or infinite loss stops a run, which is what this file checks.
  "--set",
  "train.divergence=off",
  "--backend",
  "wasm",
];

const runs = tempDir("nan");
beforeAll(requireBuild);
afterAll(() => runs.remove());

interface Meta {
  epoch: number;
  nextWindow: number;
  epochs: { epoch: number; trainLoss: number; validLoss: number }[];
}

function expectFinite(file: string): Meta {
  const ck = readCheckpoint<Meta>(file);
  expect(ck.tensors.length).toBeGreaterThan(0);
  for (const t of ck.tensors) {
    const bad = t.data.findIndex((x) => !Number.isFinite(x));
    expect(bad, `${file}: ${t.name}[${bad}] = ${t.data[bad]}`).toBe(-1);
  }
  for (const e of ck.meta.epochs)
    expect(Number.isFinite(e.trainLoss) && Number.isFinite(e.validLoss), JSON.stringify(e)).toBe(true);
  return ck.meta;
}

describe("a NaN loss", () => {
  it("stops with a clear message and exit 1, keeping the last good checkpoint loadable and finite", async () => {
    const r = await rnnc(
      [
        "run",
        ...SMALL,
        "--set",
        "train.optimizer=adam(lr = 4e18)",
        "--epochs",
        "30",
        "--limit-batches",
        "3",
        "--runs",
        runs.path,
      ],
      ROUNDED_PRODUCTS,
    );
    expectExit(r, 1);
    const dir = runDirOf(r);
    expect(r.stdout).toBe("");
    const m = /^rnnc run: the training loss is (NaN|-?Infinity) at epoch (\d+), window (\d+)\/3: stopped\. (.*)$/m.exec(
      r.stderr,
    );
    expect(m, r.stderr).not.toBeNull();
    const epoch = Number(m![2]);
    expect(epoch, "the divergence comes after the first checkpoint").toBeGreaterThanOrEqual(2);
    const last = join(dir, "last.ckpt");
    expect(m![4]).toContain(`The last good checkpoint is ${last}`);
    expect(m![4]).toContain("Lower the learning rate or add clipping");
    expect(m![4], "resuming would rerun the same settings and diverge again").not.toContain("--resume");

    // last.ckpt is the end of the epoch before the NaN, and best.ckpt the best epoch so far: both finite.
    const meta = expectFinite(last);
    expect([meta.epoch, meta.nextWindow]).toEqual([epoch, 0]);
    expect(meta.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: epoch - 1 }, (_, k) => k + 1));
    // best.ckpt holds only an epoch whose perplexity is finite: at this rate the validation losses are ~1e19 nats
    // (e^loss = Infinity), so with the divergence rule off there may be none.
    const metrics = readMetrics(dir);
    const anyBest = metrics.some((x) => x.event === "epoch" && x["best"] === true);
    if (anyBest) expectFinite(join(dir, "best.ckpt"));
    // No half-written checkpoint or temp file, and no final metrics.
    expect(
      readdirSync(dir)
        .filter((n) => n.includes("ckpt"))
        .sort(),
    ).toEqual(anyBest ? ["best.ckpt", "last.ckpt"] : ["last.ckpt"]);
    expect(metrics.some((x) => x.event === "final")).toBe(false);
    expect(metrics.filter((x) => x.event === "epoch")).toHaveLength(epoch - 1);
  }, 120_000);

  it("stops on a non-finite validation loss before that epoch is checkpointed", async () => {
    // Measured: at this rate the training losses of epoch 1 stay finite but its validation loss does not.
    const r = await rnnc(
      [
        "run",
        ...SMALL,
        "--set",
        "train.optimizer=adam(lr = 5e18)",
        "--epochs",
        "3",
        "--limit-batches",
        "8",
        "--runs",
        runs.path,
      ],
      ROUNDED_PRODUCTS,
    );
    expectExit(r, 1);
    expect(r.stderr).toMatch(
      /^rnnc run: the validation loss is (NaN|-?Infinity) after epoch 1: stopped\. No checkpoint had been written yet\./m,
    );
    expect(readdirSync(runDirOf(r)).filter((n) => n.includes("ckpt"))).toEqual([]);
  }, 120_000);

  it("before any checkpoint exists, says so (exit 1, no stack trace)", async () => {
    const r = await rnnc(
      [
        "run",
        ...SMALL,
        "--set",
        "train.optimizer=adam(lr = 1e30)",
        "--epochs",
        "2",
        "--limit-batches",
        "5",
        "--runs",
        runs.path,
      ],
      ROUNDED_PRODUCTS,
    );
    expectExit(r, 1);
    expect(r.stderr).toMatch(
      /^rnnc run: the training loss is (NaN|-?Infinity) at epoch 1, window \d+\/5: stopped\. No checkpoint had been written yet\. Lower the learning rate or add clipping in the spec \(or with --set\)\.$/m,
    );
    expect(readdirSync(runDirOf(r)).filter((n) => n.includes("ckpt"))).toEqual([]);
  }, 120_000);
});
