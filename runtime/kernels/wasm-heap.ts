// What the kernels in this folder need of the wasm backend: outputs allocated on its heap, and zero-copy views
// of tensors already there. A view must be taken after the last makeOutput of a kernel: growing the wasm
// memory detaches every earlier view.
import type { TensorInfo, TypedArray } from "@tensorflow/tfjs";

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): TypedArray;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
