// tf.tidy for results that are not plain tensor containers (objects with nulls, layer states): run `fn` in a
// scope, keep the tensors `outputs` names, and dispose every other tensor the scope created.
import * as tf from "@tensorflow/tfjs";

export function scoped<T>(fn: () => T, outputs: (r: T) => readonly (tf.Tensor | null | undefined)[]): T {
  let result!: T;
  tf.tidy(() => {
    result = fn();
    for (const t of outputs(result)) if (t) tf.keep(t);
  });
  return result;
}
