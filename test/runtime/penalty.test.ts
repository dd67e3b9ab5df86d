// The trainer and a model's penalty (AR/TAR): the penalty joins the loss that is differentiated, so it changes
// the update, but the loss a step reports (and the run's perplexity) is the cross-entropy alone. A penalty that
// turns non-finite stops the run like a non-finite loss.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { activationRegularization } from "../../runtime/model/activation-regularization.js";
import { selectBackend } from "../../runtime/accel/backend.js";
import { Embedding } from "../../runtime/model/embedding.js";
import { uniform } from "../../runtime/model/init.js";
import {
  StepContext,
  type LanguageModel,
  type ModelOutput,
  type ModelSetup,
} from "../../runtime/model/language-model.js";
import { sgd } from "../../runtime/train/optimizers.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { RecurrentLayer, type LayerState } from "../../runtime/model/recurrent-layer.js";
import { Rng } from "../../runtime/base/rng.js";
import { constant } from "../../runtime/train/schedules.js";
import { SoftmaxOutput } from "../../runtime/model/softmax-loss.js";
import { createTrainer, type TrainingSpec } from "../../runtime/train/train.js";

const V = 7,
  D = 4,
  T = 5,
  B = 3;
let uid = 0;

class Lm implements LanguageModel {
  readonly params: ParameterStore;
  readonly embedding: Embedding;
  readonly layer: RecurrentLayer;
  readonly output: SoftmaxOutput;
  constructor(
    { vocab, params }: ModelSetup,
    readonly alpha: number,
  ) {
    const k = `pen${uid++}`;
    this.params = params;
    this.embedding = new Embedding(params, `${k}.e`, vocab, D, uniform(0.5));
    this.layer = new RecurrentLayer(params, `${k}.l`, "lstm", D, D, {
      init: uniform(0.5),
      recurrentInit: uniform(0.5),
    });
    this.output = new SoftmaxOutput(params, `${k}.o`, D, vocab, { init: uniform(0.5) });
  }
  initialState(batch: number): LayerState[] {
    return [this.layer.zeroState(batch)];
  }
  forward(tokens: tf.Tensor2D, state: readonly LayerState[], ctx: StepContext): ModelOutput {
    const l = this.layer.forward(this.embedding.forward(tokens, ctx), state[0]!, ctx);
    return { hidden: l.y, raw: l.y, state: [l.state] };
  }
  penalty(out: ModelOutput): tf.Scalar {
    return activationRegularization(out.hidden, this.alpha);
  }
}

const training: TrainingSpec = {
  epochs: 1,
  optimizer: sgd({ lr: 1, momentum: 0 }),
  schedule: constant(),
  clip: null,
  weightDecay: 0,
  loss: "mean",
  seed: 0,
};
const ids = (seed: number): Int32Array => {
  const r = new Rng(seed);
  return Int32Array.from({ length: T * B }, () => r.int(V));
};

async function step(alpha: number): Promise<{ loss: number; after: Float32Array }> {
  const model = new Lm({ vocab: V, params: new ParameterStore(new Rng(1)) }, alpha);
  const trainer = createTrainer(model, training, new Rng(2));
  const s = model.initialState(B);
  const r = await trainer.step(ids(3), ids(4), T, s, 1 / (T * B));
  trainer.disposeState(s);
  trainer.disposeState(r.next);
  return { loss: r.loss, after: model.layer.U.dataSync() as Float32Array };
}

describe("a model's penalty in the training step", () => {
  beforeAll(async () => {
    await selectBackend("wasm");
  });

  it("changes the update but not the reported loss (cross-entropy only)", async () => {
    const plain = await step(0),
      penalized = await step(5);
    expect(penalized.loss).toBe(plain.loss); // same weights before the step: the same cross-entropy
    const moved = penalized.after.some((v, i) => Math.abs(v - plain.after[i]!) > 1e-6);
    expect(moved).toBe(true);
  });

  it("a non-finite penalty is reported as a non-finite loss, and the weights stay as they were", async () => {
    const model = new Lm({ vocab: V, params: new ParameterStore(new Rng(1)) }, Number.NaN);
    const before = Float32Array.from(model.layer.U.dataSync());
    const trainer = createTrainer(model, training, new Rng(2));
    const s = model.initialState(B);
    const r = await trainer.step(ids(3), ids(4), T, s, 1 / (T * B));
    expect(Number.isFinite(r.loss)).toBe(false);
    expect(Array.from(model.layer.U.dataSync())).toEqual(Array.from(before));
    trainer.disposeState(s);
    trainer.disposeState(r.next);
  });
});
