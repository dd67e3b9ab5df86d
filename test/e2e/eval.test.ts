// `rnnc eval RUN_DIR`: a checkpoint's validation and test metric, from the run's own generated code.
// - best.ckpt (the default) gives exactly the figures the run ended with: the same weights through the same code.
// - last.ckpt gives the latest weights: its validation figure is the one the last epoch logged.
// - Nothing in the run directory is written, not even env.json or metrics.jsonl.
// - Bad input (not a run directory, no best.ckpt yet, a corrupt checkpoint, another experiment's checkpoint) is a
//   one-line error with exit 1, never a stack trace.
// The language-model path runs on the synthetic corpus; the classifier path on MNIST where it is at hand.
import { copyFileSync, existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataRoot } from "../../runtime/data/locate.js";
import {
  cloneRunDir,
  expectExit,
  lastLine,
  readMetrics,
  requireBuild,
  rnnc,
  runDirOf,
  tempDir,
  type Result,
} from "./cli.js";

const tmp = tempDir("eval");
afterAll(() => tmp.remove());

/** Every file of a run directory with its size and modification time: what "nothing was written" compares. */
function listing(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f !== "node_modules")
    .sort()
    .map((f) => {
      const st = statSync(join(dir, f));
      return `${f} ${st.size} ${st.mtimeMs}`;
    });
}

const ppl = (loss: number): string => Math.exp(loss).toFixed(2);

describe("a language model's run directory", () => {
  // 3 epochs with the learning rate halved after the first: the best and the last epoch need not coincide, and the
  // output dropout makes evaluation (no masks) differ from training.
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
    "dropout.output=0.3",
  ];
  let run: Result;
  let dir = "";
  beforeAll(async () => {
    requireBuild();
    run = await rnnc(["run", ...SPEC, "--epochs", "3", "--backend", "wasm", "--runs", join(tmp.path, "lm")]);
    expectExit(run, 0);
    dir = runDirOf(run);
  }, 300_000);

  it("best.ckpt, the default: the run's own final figures, and nothing written", async () => {
    const before = listing(dir);
    const r = await rnnc(["eval", dir]);
    expectExit(r, 0);
    const best = readMetrics(dir).find((m) => m.event === "final")!["bestEpoch"];
    expect(r.stdout.split("\n")[0]).toMatch(
      new RegExp(`^${join(dir, "best.ckpt")}: after epoch ${best}; evaluated in .+ on wasm$`),
    );
    expect(lastLine(r.stdout)).toMatch(/^valid perplexity \d+\.\d\d {2}test perplexity \d+\.\d\d$/);
    expect(lastLine(r.stdout)).toBe(lastLine(run.stdout));
    expect(listing(dir)).toEqual(before);
  }, 120_000);

  it("last.ckpt: the validation figure the last epoch logged", async () => {
    const r = await rnnc(["eval", dir, "--checkpoint", "last"]);
    expectExit(r, 0);
    const epochs = readMetrics(dir).filter((m) => m.event === "epoch");
    expect(epochs).toHaveLength(3);
    expect(r.stdout.split("\n")[0]).toMatch(/last\.ckpt: after epoch 3; /);
    expect(lastLine(r.stdout)).toMatch(
      new RegExp(`^valid perplexity ${ppl(epochs[2]!["validLoss"] as number)} {2}test perplexity \\d+\\.\\d\\d$`),
    );
  }, 120_000);

  it("a checkpoint given as a file, and --limit-batches", async () => {
    const r = await rnnc(["eval", dir, "--checkpoint", join(dir, "last.ckpt"), "--limit-batches", "1"]);
    expectExit(r, 0);
    expect(lastLine(r.stdout)).toMatch(/^valid perplexity \d+\.\d\d {2}test perplexity \d+\.\d\d$/);
    expect(lastLine(r.stdout)).not.toBe(lastLine(run.stdout)); // one batch of each split, not the whole
  }, 120_000);

  it("bad input: a clear one-line error, exit 1", async () => {
    // Not a run directory.
    let r = await rnnc(["eval", "examples"]);
    expectExit(r, 1);
    expect(r.stderr).toBe("rnnc eval: examples is not a run directory (it has no model.mjs)\n");
    // A run interrupted before its first epoch ended has no best.ckpt yet: say so, and what to do instead.
    const young = join(tmp.path, "young");
    cloneRunDir(dir, young);
    copyFileSync(join(dir, "last.ckpt"), join(young, "last.ckpt"));
    r = await rnnc(["eval", young]);
    expectExit(r, 1);
    expect(r.stderr).toContain(
      `rnnc eval: ${join(young, "best.ckpt")} does not exist (no epoch has finished yet; --checkpoint last evaluates the latest weights)`,
    );
    // A file that is not a checkpoint.
    const junk = join(tmp.path, "junk.ckpt");
    writeFileSync(junk, "not a checkpoint at all");
    r = await rnnc(["eval", dir, "--checkpoint", junk]);
    expectExit(r, 1);
    expect(r.stderr).toBe(`rnnc eval: ${junk} is not an rnnc checkpoint\n`);
    // A usage error: no run directory.
    r = await rnnc(["eval"]);
    expectExit(r, 2);
  }, 120_000);

  it("a checkpoint of another model is refused, naming the first weight that differs", async () => {
    const other = await rnnc([
      "run",
      "examples/quickstart.rnn",
      "--set",
      "data.tokens=24000",
      "--set",
      "model.layers=1 lstm(16)",
      "--epochs",
      "1",
      "--limit-batches",
      "1",
      "--runs",
      join(tmp.path, "other"),
    ]);
    expectExit(other, 0);
    // Same experiment name (quickstart) but another model: the weights' shapes do not match.
    const r = await rnnc(["eval", dir, "--checkpoint", join(runDirOf(other), "last.ckpt")]);
    expectExit(r, 1);
    expect(r.stderr).toMatch(
      /^rnnc eval: checkpoint .+last\.ckpt does not match this model: param \S+ has shape \[\d+(,\d+)*\], expected \[\d+(,\d+)*\]$/m,
    );
  }, 120_000);
});

// The data root as rnnc finds it (RNNC_DATA, else the per-user cache).
const data = dataRoot();
describe.skipIf(!existsSync(join(data, "mnist")))("a classifier's run directory (pMNIST)", () => {
  it("best.ckpt gives the run's final accuracies", async () => {
    // Two batches of training, and evaluation over one batch of 50 images per split (the run's --limit-batches,
    // which eval reuses from run.json).
    const args = [
      "run",
      "examples/cooijmans-2017/pmnist-lstm.rnn",
      "--set",
      "data.eval_batch=50",
      "--set",
      "data.test_batch=50",
      "--epochs",
      "1",
      "--limit-batches",
      "2",
      "--threads",
      "1",
      "--data",
      data,
      "--runs",
      join(tmp.path, "pmnist"),
    ];
    const run = await rnnc(args);
    expectExit(run, 0);
    const dir = runDirOf(run);
    const before = listing(dir);
    const r = await rnnc(["eval", dir]);
    expectExit(r, 0);
    expect(r.stdout.split("\n")[0]).toMatch(/best\.ckpt: after epoch 1; evaluated in .+ on /);
    expect(lastLine(r.stdout)).toMatch(/^valid accuracy \d+\.\d\d % {2}test accuracy \d+\.\d\d % \(100 images\)$/);
    expect(lastLine(r.stdout)).toBe(lastLine(run.stdout));
    expect(listing(dir)).toEqual(before);
  }, 300_000);
});
