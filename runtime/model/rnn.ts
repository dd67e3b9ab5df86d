// The plain ("Elman", tanh) RNN cell: h_t = act(x_t W + h_{t-1} U + b). Merity et al. 2017 Table 6 trains it
// with and without AR/TAR; relu is Le et al. 2015's IRNN when U starts as the identity.
import * as tf from "@tensorflow/tfjs";
import type { CellMath } from "./recurrent.js";

type T2 = tf.Tensor2D;

export function rnnMath(activation: "tanh" | "relu"): CellMath {
  return {
    gates: 1,
    candidate: 0,
    hasCell: false,
    forward(a, r) {
      const pre = tf.add(a, r) as T2;
      const h = (activation === "tanh" ? tf.tanh(pre) : tf.relu(pre)) as T2;
      return { h, c: null, saved: [h] };
    },
    backward(dh, _dc, saved) {
      const [h] = saved as [T2];
      {
        // tanh' = 1 − h²; relu' = [h > 0]
        const deriv = activation === "tanh" ? tf.sub(1, tf.square(h)) : tf.cast(tf.greater(h, 0), "float32");
        const da = tf.mul(dh, deriv) as T2;
        return { da, dr: da, dhDirect: null, dcPrev: null };
      }
    },
  };
}

export function rnnReferenceStep(x: T2, h: T2, W: T2, U: T2, b: tf.Tensor1D, activation: "tanh" | "relu"): T2 {
  const pre = tf.add(tf.add(tf.matMul(x, W), tf.matMul(h, U)), b);
  return (activation === "tanh" ? tf.tanh(pre) : tf.relu(pre)) as T2;
}
