// UnsortedSegmentSum for the wasm backend, which ships without it (tfjs 4.22). tf.gather's gradient calls it,
// so without this kernel the embedding gradient throws on wasm. The sum runs in JS over the wasm heap: it is a
// scatter-add of N rows, linear in the size of the gradient, and only the embedding's backward uses it.
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs";
import { makeOutput, type WasmBackendLike } from "./wasm-heap.js";

export const unsortedSegmentSumWasm: KernelConfig = {
  kernelName: "UnsortedSegmentSum",
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const numSegments = (attrs as { numSegments: number }).numSegments;
    const wasm = backend as unknown as WasmBackendLike;
    // x: [N, ...rest]; segmentIds: [N] (tfjs reshapes to one id per leading row before calling the kernel)
    const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
    const width = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1);
    const out = makeOutput(wasm, [numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
    const dst = wasm.typedArrayFromHeap(out);
    dst.fill(0);
    const src = wasm.typedArrayFromHeap(x); // views, taken after makeOutput (which may grow the heap)
    const ids = wasm.typedArrayFromHeap(segmentIds);
    for (let r = 0; r < rows; r++) {
      const s = ids[r]!;
      if (s < 0 || s >= numSegments) continue; // TF semantics: out-of-range ids are dropped
      const o = s * width;
      const i = r * width;
      for (let k = 0; k < width; k++) dst[o + k]! += src[i + k]!;
    }
    return out;
  },
};
