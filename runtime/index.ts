// rnnc/runtime: the public surface that generated training code imports. One paper concept per file; this
// module only re-exports. Generated code imports nothing else (not tfjs directly, not the compiler).
export type { Scalar, Tensor2D, Tensor3D } from "@tensorflow/tfjs";
export { selectBackend, BACKEND_CHOICES, BackendError, type BackendChoice, type BackendInfo } from "./backend.js";
export * as init from "./init.js";
export type { Init } from "./init.js";
export { ParameterStore } from "./parameters.js";
export { Embedding } from "./embedding.js";
export { RecurrentLayer, type CellKind, type LayerState, type RecurrentLayerOptions } from "./recurrent-layer.js";
export { SoftmaxOutput, type LossScale } from "./softmax-loss.js";
export { StepContext, type LanguageModel, type ModelOutput, type ModelSetup } from "./language-model.js";
export { activationRegularization, temporalActivationRegularization, sumScalars } from "./activation-regularization.js";
export type { RecurrentDropout, RecurrentDropoutMode } from "./recurrent-dropout.js";
export type { MaskMode } from "./dropout.js";
export { sgd, adam, rmsprop, ntasgd, type OptimizerSpec } from "./optimizers.js";
export { constant, decay, plateau, atEpochs, type ScheduleSpec } from "./schedules.js";
export { runExperiment, evaluate, metricOf, TrainingError, type Experiment, type DataSpec, type TrainingSpec, type RunOptions, type RunResult, type EpochRecord } from "./train.js";
export { DataError } from "./data/data-error.js";
export { initialState, lastStep, type ClassifierSetup, type SequenceClassifier } from "./classifier.js";
export { runClassifier, type ClassifierExperiment, type ClassifierRunResult } from "./train-classifier.js";
export { CheckpointError } from "./checkpoint.js";
export { runIfMain } from "./main.js";
export { summarize } from "./summary.js";
