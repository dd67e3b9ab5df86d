// Slice and SplitV for the wasm backend, reading their input in place.
//
// Why: tfjs-backend-wasm 4.22's Slice first copies the *whole* input out of the wasm heap (`readSync`, a
// HEAPU8.slice) and then slices that copy in JS, and its SplitV calls that Slice once per piece. Splitting a
// [T·B, 4H] window projection into T steps thus copied the window T times: 73 ms for [400, 800] into 20 pieces,
// against 0.15 ms here (measured with per-kernel timings on one thread, tfjs 4.22). The result is the same tensor,
// element for element.
import { type KernelConfig, type TensorInfo, type TypedArray } from "@tensorflow/tfjs";
import { makeOutput, sizeOf, type WasmBackendLike } from "./wasm-heap.js";

/** Copy the box begin..begin+size of x (row-major, shape xShape) into out, one innermost run at a time. */
export function copyBox(
  x: TypedArray,
  xShape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  out: TypedArray,
): void {
  const rank = xShape.length;
  if (rank === 0) {
    out[0] = x[0]!;
    return;
  }
  // Fold the trailing axes that are taken whole into the innermost run: a row-block slice is one copy.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === xShape[inner]) inner--;
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1]! * xShape[d + 1]!;
  const run = size[inner]! * strides[inner]!; // elements copied per innermost run
  const outer = sizeOf(size.slice(0, inner));
  const idx = new Array<number>(inner).fill(0);
  for (let r = 0, o = 0; r < outer; r++, o += run) {
    let src = begin[inner]! * strides[inner]!;
    for (let d = 0; d < inner; d++) src += (begin[d]! + idx[d]!) * strides[d]!;
    out.set(x.subarray(src, src + run), o);
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d]! < size[d]!) break;
      idx[d] = 0;
    }
  }
}

function sliceInPlace(
  x: TensorInfo,
  begin: readonly number[],
  size: readonly number[],
  backend: WasmBackendLike,
): TensorInfo {
  const out = makeOutput(backend, [...size], x.dtype);
  if (sizeOf(size) > 0) copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

/** tfjs's own parsing of begin/size (−1 = to the end), restated: the kernel receives them normalized except −1. */
function normalize(
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): { begin: number[]; size: number[] } {
  const b = shape.map((_, d) => begin[d] ?? 0);
  const s = shape.map((n, d) => (size[d] === undefined || size[d] === -1 ? n - b[d]! : size[d]!));
  return { begin: b, size: s };
}

export const sliceWasm: KernelConfig = {
  kernelName: "Slice",
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { x } = inputs as { x: TensorInfo };
    if (x.dtype === "string") throw new Error("rnnc's wasm Slice takes numeric tensors only");
    const a = attrs as unknown as { begin: number | number[]; size: number | number[] };
    const { begin, size } = normalize(x.shape, [a.begin].flat(), [a.size].flat());
    return sliceInPlace(x, begin, size, backend as unknown as WasmBackendLike);
  },
};

export const splitVWasm: KernelConfig = {
  kernelName: "SplitV",
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { x } = inputs as { x: TensorInfo };
    const a = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const axis = a.axis < 0 ? a.axis + x.shape.length : a.axis;
    const n = x.shape[axis]!;
    let sizes: number[];
    if (typeof a.numOrSizeSplits === "number") sizes = new Array<number>(a.numOrSizeSplits).fill(n / a.numOrSizeSplits);
    else {
      sizes = [...a.numOrSizeSplits];
      const free = sizes.indexOf(-1); // one −1 takes what the others leave
      if (free >= 0) sizes[free] = n - sizes.reduce((s, v, i) => (i === free ? s : s + v), 0);
    }
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const out = sliceInPlace(x, begin, size, backend as unknown as WasmBackendLike);
      begin[axis]! += s;
      return out;
    });
  },
};
