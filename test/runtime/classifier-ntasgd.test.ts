// NT-ASGD (Merity et al. 2018, §3) on the sequence-classification task, through the one training driver: the
// non-monotone trigger fires on the classifier's validation criterion, and from then on validation, best.ckpt and
// `rnnc eval` use the averaged weights, as on the language-model path. A tiny in-memory task (4-pixel "images",
// 2 classes) whose validation labels are the training labels inverted: the better the model fits the training set,
// the worse it validates, so the trigger must fire, and after it the averaged and the current weights differ.
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { Rng } from "../../runtime/base/rng.js";
import type { MnistSplit } from "../../runtime/data/mnist.js";
import { lastStep, type ClassifierSetup, type SequenceClassifier } from "../../runtime/model/classifier.js";
import * as init from "../../runtime/model/init.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { RecurrentLayer } from "../../runtime/model/recurrent-layer.js";
import { SoftmaxOutput } from "../../runtime/model/softmax-loss.js";
import type { StepContext } from "../../runtime/model/step-context.js";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { ntasgd } from "../../runtime/train/optimizers.js";
import { restoreParams } from "../../runtime/train/run-state.js";
import { constant } from "../../runtime/train/schedules.js";
import {
  evaluateClassifier,
  runClassifierOn,
  type ClassifierExperiment,
  type ClassifierRunResult,
  type LabelledSequences,
} from "../../runtime/train/train-classifier.js";

const PIXELS = 4,
  H = 4,
  EPOCHS = 6;

class TinyClassifier implements SequenceClassifier {
  readonly params: ParameterStore;
  readonly layer: RecurrentLayer;
  readonly output: SoftmaxOutput;
  constructor({ classes, params }: ClassifierSetup) {
    this.params = params;
    this.layer = new RecurrentLayer(params, "layer1", "lstm", 1, H, {
      init: init.uniform(0.5),
      recurrentInit: init.uniform(0.5),
    });
    this.output = new SoftmaxOutput(params, "output", H, classes, { init: init.uniform(0.5) });
  }
  forward(pixels: tf.Tensor3D, ctx: StepContext): tf.Tensor2D {
    return lastStep(this.layer.forward(pixels, this.layer.initialState(pixels.shape[1]), ctx).y);
  }
}

const experiment: ClassifierExperiment = {
  task: "classify",
  name: "tiny_ntasgd",
  spec: { file: "tiny.rnn", hash: "0" },
  data: { dataset: "mnist", batch: 8, evalBatch: 32, testBatch: 32, permutationSeed: null },
  training: {
    epochs: EPOCHS,
    optimizer: ntasgd({ lr: 2, nonmono: 1 }),
    schedule: constant(),
    clip: 5,
    weightDecay: 0,
    seed: 3,
    divergence: null,
  },
  createModel: (setup) => new TinyClassifier(setup),
};

/** `count` random images; the label says whether the first pixel is bright, or the opposite when `inverted`. */
function split(count: number, seed: number, inverted: boolean): MnistSplit {
  const rng = new Rng(seed);
  const images = Uint8Array.from({ length: count * PIXELS }, () => rng.int(256));
  const labels = Uint8Array.from({ length: count }, (_, i) => Number(images[i * PIXELS]! >= 128) ^ Number(inverted));
  return { images, labels, count };
}
const all = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
const valid = split(32, 2, true);
const sets: LabelledSequences = {
  train: split(64, 1, false),
  trainCount: 64,
  valid: { split: valid, indices: all(32) },
  test: { split: valid, indices: all(32) },
  perm: null,
  pixels: PIXELS,
  classes: 2,
};
const quiet = { write: () => {} };

let dir: string;
let run: ClassifierRunResult;
let metrics: Record<string, unknown>[];
beforeAll(async () => {
  await selectBackend("cpu");
  dir = mkdtempSync(join(tmpdir(), "rnnc-classifier-ntasgd-"));
  run = await runClassifierOn(experiment, { runDir: dir, progress: quiet }, async () => sets);
  metrics = readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Validation loss of `file`'s weights: as stored (`param/…`), or NT-ASGD's average (`opt/<name>/ax`). */
async function validLossOf(file: string, averaged: boolean): Promise<number> {
  const ck = readCheckpoint<unknown>(file);
  const params = new ParameterStore(new Rng(0));
  try {
    const model = experiment.createModel({ classes: 2, params });
    restoreParams(params, ck.tensors, file);
    if (averaged)
      for (const p of params.list) {
        const ax = ck.tensors.find((t) => t.name === `opt/${p.variable.name}/ax`);
        if (!ax) throw new Error(`no average of ${p.name} in ${file}`);
        p.variable.assign(tf.tensor(ax.data, [...ax.shape]));
      }
    return (await evaluateClassifier(model, valid, all(32), 32, null, undefined, PIXELS)).loss;
  } finally {
    params.dispose();
  }
}

describe("NT-ASGD on a sequence classifier", () => {
  it("triggers averaging on the classifier's validation criterion", () => {
    expect(run.status).toBe("done");
    const trigger = metrics.find((m) => m["event"] === "ntasgd");
    expect(trigger, "an ntasgd line in metrics.jsonl").toBeDefined();
    const at = trigger!["epoch"] as number;
    expect(at).toBeLessThan(EPOCHS); // averaging then runs for at least one epoch
    // worse than the best of the epochs before the last nonmono (1): lower accuracy, or equal and a higher loss
    const epochs = run.epochs;
    const before = epochs.slice(0, at - 2);
    const rec = epochs[at - 1]!;
    expect(
      before.some(
        (b) =>
          b.validAccuracy > rec.validAccuracy || (b.validAccuracy === rec.validAccuracy && b.validLoss < rec.validLoss),
      ),
    ).toBe(true);
    expect(
      readCheckpoint<{ averagingSince: number | null }>(join(dir, "last.ckpt")).meta.averagingSince,
    ).toBeGreaterThan(0);
  });

  it("validates the averaged weights after the trigger, not the current ones", async () => {
    const last = join(dir, "last.ckpt"); // written after the last epoch: the weights and average that epoch validated
    const averaged = await validLossOf(last, true);
    const current = await validLossOf(last, false);
    expect(Math.abs(averaged - current)).toBeGreaterThan(1e-4); // the two differ, so the check below can tell them apart
    expect(run.epochs.at(-1)!.validLoss).toBeCloseTo(averaged, 6);
  });

  it("`rnnc eval` of a checkpoint uses its averaged weights too", async () => {
    const last = join(dir, "last.ckpt");
    const evaluated = await runClassifierOn(
      experiment,
      { runDir: dir, progress: quiet, evaluate: last },
      async () => sets,
    );
    expect(evaluated.valid!.loss).toBeCloseTo(await validLossOf(last, true), 6);
  });
});
