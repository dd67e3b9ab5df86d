// Full passes over large tensors, on the SIMD helpers of the GEMM's module (gemm-wasm.ts), where tfjs-wasm takes
// several kernels or a scalar loop. The output layer's: Max over an axis (~7 ms for [700, 10 000]) and the
// gradient (softmax − onehot)·s (OneHot, Cast, Sub, Mul: ~20 ms). The update's: clipping's Σg² (Square and Sum)
// and SGD's w − lr·g (Mul and Sub). Each computes what its op sequence does, bit for bit (a maximum is exact; the
// gradient rounds as the ops do, (p_t − 1)·s at a target, p·s elsewhere; the step rounds after the product), but
// for Σg², whose order of addition differs (four vector sums, not one running sum): at float32 rounding.
import { type KernelConfig, type TensorInfo } from "@tensorflow/tfjs";
import { wasmGemm } from "./matmul-wasm.js";
import { makeOutput, type WasmBackendLike } from "./wasm-heap.js";

export const RNNC_ROW_MAX = "RnncRowMax";
export const RNNC_SOFTMAX_GRAD = "RnncSoftmaxGrad";
export const RNNC_SUB_SCALED = "RnncSubScaled";
export const RNNC_SUM_SQUARES = "RnncSumSquares";

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

/** v − g·s for v, g of one shape (float32) and s: attrs.s. */
export const subScaledWasm: KernelConfig = {
  kernelName: RNNC_SUB_SCALED,
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { v, g } = inputs as Record<"v" | "g", TensorInfo>;
    const gemm = started(RNNC_SUB_SCALED);
    const be = backend as unknown as WasmBackendLike;
    const out = makeOutput(be, [...v.shape], "float32");
    const n = v.shape.reduce((a, b) => a * b, 1);
    gemm.subScaled(be.typedArrayFromHeap(v).byteOffset, be.typedArrayFromHeap(g).byteOffset, be.typedArrayFromHeap(out).byteOffset, n, (attrs as { s: number }).s);
    return out;
  },
};

/** Σ x² over all of x (float32) → a scalar. */
export const sumSquaresWasm: KernelConfig = {
  kernelName: RNNC_SUM_SQUARES,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend }) => {
    const { x } = inputs as Record<"x", TensorInfo>;
    const gemm = started(RNNC_SUM_SQUARES);
    const be = backend as unknown as WasmBackendLike;
    const out = makeOutput(be, [], "float32");
    gemm.sumSquares(be.typedArrayFromHeap(x).byteOffset, x.shape.reduce((a, b) => a * b, 1), be.typedArrayFromHeap(out).byteOffset);
    return out;
  },
};
