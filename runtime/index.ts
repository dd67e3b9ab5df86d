// rnnc/runtime: the public surface that generated training code imports (the layers behind it: README.md); this
// module only re-exports. Generated code imports nothing else (not tfjs directly, not the compiler).
export type { Scalar, Tensor2D, Tensor3D } from "@tensorflow/tfjs";
export { selectBackend, BACKEND_CHOICES, BackendError, type BackendChoice, type BackendInfo } from "./accel/backend.js";
export * as init from "./model/init.js";
export type { Init } from "./model/init.js";
export { ParameterStore } from "./model/parameters.js";
export { Embedding } from "./model/embedding.js";
export { RecurrentLayer, type CellKind, type LayerState, type RecurrentLayerOptions } from "./model/recurrent-layer.js";
export { SoftmaxOutput, type LossScale } from "./model/softmax-loss.js";
export { StepContext } from "./model/step-context.js";
export type { LanguageModel, ModelOutput, ModelSetup } from "./model/language-model.js";
export {
  activationRegularization,
  temporalActivationRegularization,
  sumScalars,
} from "./model/activation-regularization.js";
export type { RecurrentDropout, RecurrentDropoutMode } from "./model/recurrent-dropout.js";
export type { MaskMode } from "./model/dropout.js";
export { sgd, adam, rmsprop, ntasgd, type OptimizerSpec } from "./train/optimizers.js";
export { constant, decay, plateau, atEpochs, type ScheduleSpec } from "./train/schedules.js";
export {
  runExperiment,
  evaluate,
  metricOf,
  TrainingError,
  type Experiment,
  type DataSpec,
  type TrainingSpec,
  type RunOptions,
  type RunResult,
  type EpochRecord,
} from "./train/train.js";
export { DataError } from "./data/data-error.js";
export { initialState, lastStep, type ClassifierSetup, type SequenceClassifier } from "./model/classifier.js";
export { runClassifier, type ClassifierExperiment, type ClassifierRunResult } from "./train/train-classifier.js";
export { CheckpointError } from "./train/checkpoint.js";
export { runIfMain } from "./train/main.js";
export { summarize } from "./train/summary.js";
