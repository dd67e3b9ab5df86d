// GatherV2 for the wasm backend, copying whole rows out of the heap in place.
//
// Why: tfjs-backend-wasm 4.22's gather took 19.5 ms to read 700 rows of 650 floats out of a [10 000, 650]
// embedding (measured with per-kernel timings, tfjs 4.22; 0.34 ms here): ~40× the cost of the copy itself, and ~2% of a medium training
// step. Here each gathered slice is one TypedArray.set. Same semantics as tfjs (batchDims, any axis; an index
// outside [0, dim) is an error), so the result is element for element the same.
import { backend_util, type KernelConfig, type TensorInfo } from "@tensorflow/tfjs";
import { makeOutput, sizeOf, type WasmBackendLike } from "./wasm-heap.js";

export const gatherV2Wasm: KernelConfig = {
  kernelName: "GatherV2",
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    const a = attrs as unknown as { axis: number; batchDims: number };
    const axis = a.axis < 0 ? a.axis + x.shape.length : a.axis;
    const wasm = backend as unknown as WasmBackendLike;
    // [batch, outer, dim, slice] in, [batch, outer, indicesPerBatch, slice] out
    const info = backend_util.segment_util.collectGatherOpShapeInfo(x as never, indices as never, axis, a.batchDims);
    const out = makeOutput(wasm, info.outputShape, x.dtype);
    const n = sizeOf(indices.shape);
    if (sizeOf(x.shape) === 0 || n === 0) return out;
    const src = wasm.typedArrayFromHeap(x); // views, taken after makeOutput (which may grow the heap)
    const idx = wasm.typedArrayFromHeap(indices);
    const dst = wasm.typedArrayFromHeap(out);
    const { batchSize, outerSize, dimSize, sliceSize } = info;
    const perBatch = n / batchSize;
    for (let i = 0; i < n; i++) {
      const v = idx[i]!;
      if (!(v >= 0 && v < dimSize)) throw new Error(`GatherV2: the index value ${v} is not in [0, ${dimSize - 1}]`);
    }
    let o = 0;
    for (let b = 0; b < batchSize; b++)
      for (let q = 0; q < outerSize; q++) {
        const base = (b * outerSize + q) * dimSize;
        for (let i = 0; i < perBatch; i++, o += sliceSize) {
          const s = (base + idx[b * perBatch + i]!) * sliceSize;
          dst.set(src.subarray(s, s + sliceSize), o);
        }
      }
    return out;
  },
};
