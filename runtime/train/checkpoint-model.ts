// A language model as a checkpoint holds it, for the commands that use a trained model without training it
// (`rnnc sample`, `rnnc export`): the checkpoint verified, the data loaded (for the vocabulary), the model built and
// its weights restored, and the optimizer's state restored so that NT-ASGD's averaged weights can be swapped in.
import { Rng } from "../base/rng.js";
import type { LanguageModel } from "../model/language-model.js";
import { ParameterStore } from "../model/parameters.js";
import type { Experiment, LanguageModelData } from "./lm-task.js";
import { Optimizer } from "./optimizers.js";
import { openForEvaluation, restoreOptimizer, restoreParams } from "./run-state.js";
import type { RunOptions } from "./task.js";

export interface CheckpointModel {
  readonly data: LanguageModelData;
  readonly params: ParameterStore;
  readonly model: LanguageModel;
  /** Dispose it when done; `withAveraged` gives the weights evaluation uses. */
  readonly optimizer: Optimizer;
}

export async function openCheckpointModel(
  exp: Experiment,
  load: () => Promise<LanguageModelData>,
  file: string,
  opts: RunOptions,
): Promise<CheckpointModel> {
  const { ck } = await openForEvaluation<{ experiment: string; bestEpoch: number | null }>(exp.name, file, opts);
  const data = await load();
  const params = new ParameterStore(new Rng(exp.training.seed));
  const model = data.createModel(params) as LanguageModel;
  restoreParams(params, ck.tensors, file);
  const optimizer = new Optimizer(exp.training.optimizer);
  restoreOptimizer(optimizer, ck.tensors, ck.meta as never);
  return { data, params, model, optimizer };
}
