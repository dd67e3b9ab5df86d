// One LSTM step's backward through its gates (model/lstm.ts), as one kernel on wasm.
//
// Why: as tfjs ops the step is ~20 kernels on [B, H] tensors (splits, products, 1 − x², concats), each a dispatch
// that costs more than its arithmetic. One kernel instead took a Zaremba medium window (2 layers × 35 steps) from
// 2 781 kernels to 1 515 (counted with tf.profile). Here it is one
// pass over the units, reading the forward's saved activations in place. No transcendental is evaluated (the
// forward saved σ and tanh), so the JS loop is cheap. The formulas are lstmMath.backward's, term for term:
//   dO = dh ⊙ tanh(c_t)                 dC = dh ⊙ o ⊙ (1 − tanh²(c_t)) + dc_{t+1}
//   dI = dC ⊙ g   dF = dC ⊙ c_{t-1}   dG = dC ⊙ i   dc_{t-1} = dC ⊙ f
//   da = [dI ⊙ i(1 − i) | dF ⊙ f(1 − f) | dO ⊙ o(1 − o) | dG ⊙ (1 − g²)]
// computed in double precision and stored as float32 (the op sequence rounds after every op: the two agree to a
// few ulps, test/runtime/kernels/lstm-backward-wasm.test.ts).
import { type KernelConfig, type TensorInfo } from "@tensorflow/tfjs";
import { makeOutput, type WasmBackendLike } from "./wasm-heap.js";

export const LSTM_BACKWARD = "RnncLstmCellBackward";

export const lstmBackwardWasm: KernelConfig = {
  kernelName: LSTM_BACKWARD,
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { dh, dc, sg, g, tc, cPrev } = inputs as Record<"dh" | "dc" | "sg" | "g" | "tc" | "cPrev", TensorInfo>;
    const hasDc = (attrs as { hasDc: boolean }).hasDc;
    const be = backend as unknown as WasmBackendLike;
    const [B, H] = dh.shape as [number, number];
    const da = makeOutput(be, [B, 4 * H], "float32");
    const dcPrev = makeOutput(be, [B, H], "float32");
    // Views only now: a makeOutput may grow the heap, which detaches earlier views (wasm-heap.ts).
    const DH = be.typedArrayFromHeap(dh),
      SG = be.typedArrayFromHeap(sg),
      G = be.typedArrayFromHeap(g);
    const TC = be.typedArrayFromHeap(tc),
      CP = be.typedArrayFromHeap(cPrev);
    const DC = hasDc ? be.typedArrayFromHeap(dc) : null;
    const DA = be.typedArrayFromHeap(da),
      DCP = be.typedArrayFromHeap(dcPrev);
    for (let b = 0; b < B; b++) {
      const u = b * H,
        s = 3 * b * H,
        a = 4 * b * H;
      for (let j = 0; j < H; j++) {
        const k = u + j;
        const i = SG[s + j]!,
          f = SG[s + H + j]!,
          o = SG[s + 2 * H + j]!;
        const gg = G[k]!,
          t = TC[k]!,
          dhk = DH[k]!;
        const dC = dhk * o * (1 - t * t) + (DC ? DC[k]! : 0);
        DCP[k] = dC * f;
        DA[a + j] = dC * gg * i * (1 - i);
        DA[a + H + j] = dC * CP[k]! * f * (1 - f);
        DA[a + 2 * H + j] = dhk * t * o * (1 - o);
        DA[a + 3 * H + j] = dC * i * (1 - gg * gg);
      }
    }
    return [da, dcPrev];
  },
};
