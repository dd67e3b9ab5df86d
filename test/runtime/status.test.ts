// status.json (runtime/train/status.ts), as the driver keeps it: "running" while training, then "finished", "stopped"
// (the Ctrl-C path, through stopAfterWindows), "diverged" (the NaN stop) or "failed" (any other error, with its
// first line). A tiny language model on a synthetic corpus; its forward can be made to throw or to return NaN.
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { Embedding } from "../../runtime/model/embedding.js";
import { uniform } from "../../runtime/model/init.js";
import type { LanguageModel, ModelOutput, ModelSetup, StepContext } from "../../runtime/model/language-model.js";
import type { ParameterStore } from "../../runtime/model/parameters.js";
import { RecurrentLayer, type LayerState } from "../../runtime/model/recurrent-layer.js";
import { SoftmaxOutput } from "../../runtime/model/softmax-loss.js";
import { sgd } from "../../runtime/train/optimizers.js";
import type { RunStatus } from "../../runtime/train/status.js";
import { runExperiment, type Experiment } from "../../runtime/train/train.js";

let uid = 0; // tfjs variable names are global to the engine: each run builds its model under a fresh prefix
type Fault = "none" | "throw" | "nan";

class TinyLm implements LanguageModel {
  readonly embedding: Embedding;
  readonly layer: RecurrentLayer;
  readonly output: SoftmaxOutput;
  private calls = 0;
  constructor(
    readonly params: ParameterStore,
    vocab: number,
    prefix: string,
    private readonly fault: Fault,
  ) {
    this.embedding = new Embedding(params, `${prefix}.embedding`, vocab, 4, uniform(0.3));
    this.layer = new RecurrentLayer(params, `${prefix}.layer`, "lstm", 4, 4, {
      init: uniform(0.3),
      recurrentInit: uniform(0.3),
    });
    this.output = new SoftmaxOutput(params, `${prefix}.output`, 4, vocab, { init: uniform(0.3) });
  }
  initialState(batch: number): LayerState[] {
    return [this.layer.zeroState(batch)];
  }
  forward(tokens: tf.Tensor2D, state: readonly LayerState[], _ctx: StepContext): ModelOutput {
    // The third training window goes wrong (evaluation never reaches it: the runs stop within epoch 1)
    if (++this.calls === 3 && this.fault === "throw") throw new Error("the device fell over\nsecond line");
    const l = this.layer.forward(this.embedding.forward(tokens), state[0]!);
    const y = this.calls === 3 && this.fault === "nan" ? (tf.mul(l.y, NaN) as tf.Tensor3D) : l.y;
    return { hidden: y, raw: y, state: [l.state] };
  }
}

const dir = mkdtempSync(join(tmpdir(), "rnnc-status-"));
beforeAll(() => selectBackend("cpu"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(fault: Fault, stopAfterWindows?: number): Promise<{ status: RunStatus; error: unknown }> {
  const prefix = `st${uid++}`;
  const exp: Experiment = {
    name: "status_test",
    spec: { file: "test.rnn", hash: "0" },
    data: {
      dataset: "synthetic",
      path: null,
      batch: 4,
      evalBatch: 4,
      testBatch: 4,
      bptt: 5,
      stateful: true,
      synthetic: { vocab: 6, order: 1, tokens: 2000, seed: 3 },
    },
    training: {
      epochs: 1,
      optimizer: sgd({ lr: 0.1 }),
      schedule: { kind: "constant" },
      clip: null,
      weightDecay: 0,
      loss: "mean",
      seed: 1,
      divergence: null,
    },
    createModel: (setup: ModelSetup) => new TinyLm(setup.params, setup.vocab, prefix, fault),
  };
  const runDir = join(dir, prefix);
  let error: unknown = null;
  try {
    await runExperiment(exp, {
      runDir,
      backend: "cpu",
      limitBatches: 10,
      stopAfterWindows,
      progress: { write: () => {}, isTTY: false },
    });
  } catch (e) {
    error = e;
  }
  return { status: JSON.parse(readFileSync(join(runDir, "status.json"), "utf8")) as RunStatus, error };
}

describe("status.json", () => {
  it("finished: with this process's id and host, and when it started", async () => {
    const { status, error } = await run("none");
    expect(error).toBeNull();
    expect(status).toMatchObject({ state: "finished", pid: process.pid });
    expect(Date.parse(status.since)).toBeLessThanOrEqual(Date.parse(status.at));
  });

  it("stopped: interrupted (Ctrl-C's path) after 2 windows", async () => {
    expect((await run("none", 2)).status.state).toBe("stopped");
  });

  it("diverged: the NaN stop", async () => {
    const { status, error } = await run("nan");
    expect(String(error)).toMatch(/loss is NaN/);
    expect(status.state).toBe("diverged");
  });

  it("failed: any other error, with the first line of its message", async () => {
    const { status, error } = await run("throw");
    expect(String(error)).toMatch(/the device fell over/);
    expect(status).toMatchObject({ state: "failed", message: "the device fell over" });
  });
});
