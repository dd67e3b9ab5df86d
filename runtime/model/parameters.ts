// The model's trainable parameters, in creation order: names are stable, so a checkpoint maps back by name,
// and the order is the order the optimizer and the gradient-norm clip see.
import * as tf from "@tensorflow/tfjs";
import { initMatrix, type Init, type RecurrentLayout } from "./init.js";
import type { Rng } from "../base/rng.js";

export interface Parameter {
  readonly name: string;
  readonly variable: tf.Variable;
  /** Biases and normalization gains are not decayed when `decay` is false. (awd-lstm-lm decays everything.) */
  readonly decay: boolean;
}

/** State that is saved with the model but not trained: batch norm's population statistics. */
export interface Buffer {
  readonly name: string;
  readonly variable: tf.Variable;
}

export class ParameterStore {
  readonly list: Parameter[] = [];
  readonly buffers: Buffer[] = [];
  constructor(readonly rng: Rng) {}

  /**
   * A [rows, cols] weight, initialized by `init`; `hidden` is the size its 1/√H refers to; `recurrent`: the weight
   * is a recurrent layer's U, whose identity init knows its candidate block (init.ts).
   */
  matrix(
    name: string,
    rows: number,
    cols: number,
    init: Init,
    hidden: number,
    recurrent?: RecurrentLayout,
  ): tf.Variable<tf.Rank.R2> {
    return this.add(
      name,
      tf.tensor2d(initMatrix(init, rows, cols, hidden, this.rng, recurrent), [rows, cols]),
      true,
    ) as tf.Variable<tf.Rank.R2>;
  }

  /** A vector, filled by `fill(i)` (constant blocks such as the forget-gate bias). */
  vector(name: string, size: number, fill: (i: number) => number = () => 0): tf.Variable<tf.Rank.R1> {
    return this.add(
      name,
      tf.tensor1d(Float32Array.from({ length: size }, (_, i) => fill(i))),
      true,
    ) as tf.Variable<tf.Rank.R1>;
  }

  /** A non-trainable [rows, cols] buffer filled with `value`, checkpointed with the parameters. */
  buffer(name: string, rows: number, cols: number, value: number): tf.Variable<tf.Rank.R2> {
    if (this.buffers.some((p) => p.name === name)) throw new Error(`duplicate buffer name ${name}`);
    const initial = tf.fill([rows, cols], value);
    const variable = tf.variable(initial, false, name) as tf.Variable<tf.Rank.R2>;
    initial.dispose();
    this.buffers.push({ name, variable });
    return variable;
  }

  private add(name: string, initial: tf.Tensor, decay: boolean): tf.Variable {
    if (this.list.some((p) => p.name === name)) throw new Error(`duplicate parameter name ${name}`);
    const variable = tf.variable(initial, true, name);
    initial.dispose();
    this.list.push({ name, variable, decay });
    return variable;
  }

  count(): number {
    return this.list.reduce((n, p) => n + p.variable.size, 0);
  }

  dispose(): void {
    for (const p of [...this.list, ...this.buffers]) p.variable.dispose();
  }
}
