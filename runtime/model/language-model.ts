// What generated code implements: a language model over [T, B] token windows. The model exposes the hidden
// sequence that feeds the softmax (after the output dropout) so that the trainer owns the loss convention.
import type * as tf from "@tensorflow/tfjs";
import type { ParameterStore } from "./parameters.js";
import type { LayerState } from "./recurrent-layer.js";
import type { SoftmaxOutput } from "./softmax-loss.js";
import type { StepContext } from "./step-context.js";

// StepContext lives in step-context.ts (the layers read it, and this interface names the layers' state); it is
// re-exported here for the modules that import it with the model's interface.
export { StepContext } from "./step-context.js";

export interface ModelSetup {
  /** The vocabulary size, known once the data is loaded. */
  readonly vocab: number;
  /** Where parameters are created; its Rng initializes them. */
  readonly params: ParameterStore;
}

/** What a forward pass exposes: the intermediates the losses need, as awd-lstm-lm returns them. */
export interface ModelOutput {
  /** [T, B, D]: what the softmax reads, the last layer's output after the output dropout (m ⊙ h). */
  readonly hidden: tf.Tensor3D;
  /** [T, B, D]: the last layer's raw output h, before the output dropout (TAR's input). */
  readonly raw: tf.Tensor3D;
  /** Each layer's final state, detached. */
  readonly state: LayerState[];
}

export interface LanguageModel {
  readonly params: ParameterStore;
  readonly output: SoftmaxOutput;
  /** Zero state for every layer. */
  initialState(batch: number): LayerState[];
  /** tokens [T, B] → the hidden sequence for the softmax, the raw last-layer output, and every layer's final state. */
  forward(tokens: tf.Tensor2D, state: readonly LayerState[], ctx: StepContext): ModelOutput;
  /** Regularizers added to the training loss (AR, TAR); absent: none. */
  penalty?(out: ModelOutput): tf.Scalar;
}
