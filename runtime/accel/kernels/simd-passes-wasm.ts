// Full passes over large tensors, on the SIMD helpers of the GEMM's module (gemm-wasm.ts), where tfjs-wasm takes
// several kernels or a scalar loop. The output layer's: Max over an axis (~7 ms for [700, 10 000]) and the
// gradient (softmax − onehot)·s (OneHot, Cast, Sub, Mul: ~20 ms). The update's: clipping's Σg² (Square and Sum)
// and SGD's w − lr·g (Mul and Sub). Each computes what its op sequence does, bit for bit (a maximum is exact; the
// gradient rounds as the ops do, (p_t − 1)·s at a target, p·s elsewhere; the step rounds after the product), but
// for Σg², whose order of addition differs (four vector sums, not one running sum): at float32 rounding.
import { type KernelConfig, type TensorInfo } from "@tensorflow/tfjs";
import type { Gemm } from "./gemm.js";
import { wasmGemm } from "./matmul-wasm.js";
import { makeOutput, sizeOf, type WasmBackendLike } from "./wasm-heap.js";

export const RNNC_ROW_MAX = "RnncRowMax";
export const RNNC_SOFTMAX_GRAD = "RnncSoftmaxGrad";
export const RNNC_SUB_SCALED = "RnncSubScaled";
export const RNNC_SUM_SQUARES = "RnncSumSquares";

/**
 * A kernel of one pass: its output allocated (`outputShape`), then `run` with the GEMM module, the addresses of
 * its tensors, and the backend (for views).
 */
function simdPass(
  kernelName: string,
  outputShape: (inputs: Record<string, TensorInfo>) => number[],
  run: (
    gemm: Gemm,
    at: (t: TensorInfo) => number,
    inputs: Record<string, TensorInfo>,
    out: TensorInfo,
    attrs: Record<string, unknown>,
    be: WasmBackendLike,
  ) => void,
): KernelConfig {
  return {
    kernelName,
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const gemm = wasmGemm();
      if (!gemm) throw new Error(`${kernelName} runs only after startWasmGemm`);
      const be = backend as unknown as WasmBackendLike;
      const ins = inputs as Record<string, TensorInfo>;
      const out = makeOutput(be, outputShape(ins), "float32");
      // addresses only now: makeOutput may grow the heap, which detaches earlier views
      run(gemm, (t) => be.typedArrayFromHeap(t).byteOffset, ins, out, attrs as Record<string, unknown>, be);
      return out;
    },
  };
}

const elements = (t: TensorInfo): number => sizeOf(t.shape);

/** max over the last axis of x: [N, V] → [N]. */
export const rowMaxWasm = simdPass(
  RNNC_ROW_MAX,
  ({ x }) => [x!.shape[0]!],
  (gemm, at, { x }, out) => gemm.rowMax(at(x!), at(out), x!.shape[0]!, x!.shape[1]!),
);

/** (p − onehot(targets))·s for p: [N, V], targets: [N] int32, s: a float32 scalar. */
export const softmaxGradWasm = simdPass(
  RNNC_SOFTMAX_GRAD,
  ({ p }) => [...p!.shape],
  (gemm, at, { p, targets, s }, out, _attrs, be) => {
    const [N, V] = p!.shape as [number, number];
    const S = be.typedArrayFromHeap(s!)[0]!;
    gemm.scale(at(p!), at(out), N * V, S);
    const P = be.typedArrayFromHeap(p!),
      T = be.typedArrayFromHeap(targets!),
      D = be.typedArrayFromHeap(out);
    for (let n = 0; n < N; n++) {
      const t = T[n]!;
      if (t >= 0 && t < V) D[n * V + t] = Math.fround(Math.fround(P[n * V + t]! - 1) * S); // tf.oneHot: no 1 outside [0, V)
    }
  },
);

/** v − g·s for v, g of one shape (float32) and s: attrs.s. */
export const subScaledWasm = simdPass(
  RNNC_SUB_SCALED,
  ({ v }) => [...v!.shape],
  (gemm, at, { v, g }, out, attrs) => gemm.subScaled(at(v!), at(g!), at(out), elements(v!), attrs["s"] as number),
);

/** Σ x² over all of x (float32) → a scalar. */
export const sumSquaresWasm = simdPass(
  RNNC_SUM_SQUARES,
  () => [],
  (gemm, at, { x }, out) => gemm.sumSquares(at(x!), elements(x!), at(out)),
);
