// The names generated code may import from `rnnc/runtime`, each with how it is imported: "value" for what the code
// calls or constructs at run time, "type" for what it names only in types (an `import { type X }`). The compiler
// never imports the runtime; test/codegen/runtime-exports.test.ts reads runtime/index.ts and checks that each name
// here is exported there with that kind, so a renamed runtime export fails a test rather than a user's build.
export const RUNTIME_EXPORTS = {
  // the experiment and its runners
  Experiment: "type",
  ClassifierExperiment: "type",
  RunOptions: "type",
  RunResult: "type",
  ClassifierRunResult: "type",
  runExperiment: "value",
  runClassifier: "value",
  runIfMain: "value",
  // the model's contract with the trainer
  ModelSetup: "type",
  ModelOutput: "type",
  LanguageModel: "type",
  ClassifierSetup: "type",
  SequenceClassifier: "type",
  LayerState: "type",
  StepContext: "type",
  Tensor2D: "type",
  Tensor3D: "type",
  Scalar: "type",
  // model pieces
  Embedding: "value",
  RecurrentLayer: "value",
  SoftmaxOutput: "value",
  init: "value",
  lastStep: "value",
  initialState: "value",
  activationRegularization: "value",
  temporalActivationRegularization: "value",
  sumScalars: "value",
  // optimizers and schedules
  sgd: "value",
  adam: "value",
  rmsprop: "value",
  ntasgd: "value",
  constant: "value",
  decay: "value",
  plateau: "value",
  atEpochs: "value",
} as const satisfies Readonly<Record<string, "type" | "value">>;

/** A name generated code may import: a misspelt one does not compile. */
export type RuntimeName = keyof typeof RUNTIME_EXPORTS;

export const RUNTIME_MODULE = "rnnc/runtime";
