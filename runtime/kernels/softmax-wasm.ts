// The output layer's two other full passes over [N, V] (softmax-loss.ts), on the SIMD helpers of the GEMM's module
// (gemm-wasm.ts): tfjs-wasm runs Max over an axis as a scalar loop (~7 ms for [700, 10 000]), and the gradient
// (softmax − onehot)·s as four kernels (OneHot, Cast, Sub, Mul: ~20 ms). Both compute what the op sequence does,
// bit for bit: a maximum is exact, and the gradient rounds as it does, (p_t − 1)·s at a target, p·s elsewhere.
import { type KernelConfig, type TensorInfo } from "@tensorflow/tfjs";
import { wasmGemm } from "./matmul-wasm.js";
import { makeOutput, type WasmBackendLike } from "./wasm-heap.js";

export const RNNC_ROW_MAX = "RnncRowMax";
export const RNNC_SOFTMAX_GRAD = "RnncSoftmaxGrad";

const started = (name: string) => {
  const g = wasmGemm();
  if (!g) throw new Error(`${name} runs only after startWasmGemm`);
  return g;
};

/** max over the last axis of x: [N, V] → [N]. */
export const rowMaxWasm: KernelConfig = {
  kernelName: RNNC_ROW_MAX,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend }) => {
    const { x } = inputs as Record<"x", TensorInfo>;
    const g = started(RNNC_ROW_MAX);
    const be = backend as unknown as WasmBackendLike;
    const [N, V] = x.shape as [number, number];
    const out = makeOutput(be, [N], "float32");
    g.rowMax(be.typedArrayFromHeap(x).byteOffset, be.typedArrayFromHeap(out).byteOffset, N, V);
    return out;
  },
};

/** (p − onehot(targets))·s for p: [N, V], targets: [N] int32, s: a float32 scalar. */
export const softmaxGradWasm: KernelConfig = {
  kernelName: RNNC_SOFTMAX_GRAD,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend }) => {
    const { p, targets, s } = inputs as Record<"p" | "targets" | "s", TensorInfo>;
    const g = started(RNNC_SOFTMAX_GRAD);
    const be = backend as unknown as WasmBackendLike;
    const [N, V] = p.shape as [number, number];
    const out = makeOutput(be, [N, V], "float32");
    const P = be.typedArrayFromHeap(p), T = be.typedArrayFromHeap(targets), S = be.typedArrayFromHeap(s)[0]!;
    const D = be.typedArrayFromHeap(out) as Float32Array;
    g.scale(P.byteOffset, D.byteOffset, N * V, S);
    for (let n = 0; n < N; n++) {
      const t = T[n]!;
      if (t >= 0 && t < V) D[n * V + t] = Math.fround(Math.fround(P[n * V + t]! - 1) * S); // tf.oneHot: no 1 outside [0, V)
    }
    return out;
  },
};
