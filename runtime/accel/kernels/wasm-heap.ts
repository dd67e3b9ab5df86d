// What the kernels in this folder need of the wasm backend: outputs allocated on its heap, and zero-copy views
// of tensors already there. A view must be taken after the last makeOutput of a kernel: growing the wasm
// memory detaches every earlier view.
import type { TensorInfo, TypedArray } from "@tensorflow/tfjs";

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): TypedArray;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The largest allocation the 32-bit heap can hold (tfjs's makeOutput passes a byte count as an i32: a larger one
 * wraps around and allocates too little, which a kernel writing its whole output would overrun). */
export const HEAP_LIMIT_BYTES = 2 ** 32 - 1;

/**
 * Thrown by rnnc's kernels where the wasm heap cannot hold what they must allocate, before they write anything.
 * The trainer reports it as it reports the heap's own abort: memory, with the sizes and the ways out.
 */
export class WasmHeapExhausted extends Error {
  override readonly name = "WasmHeapExhausted";
  constructor(message: string) {
    super(message);
    raised = this; // eslint-disable-line @typescript-eslint/no-this-alias
  }
}

let raised: WasmHeapExhausted | null = null;

/**
 * The last WasmHeapExhausted raised since the previous call, if any; the call clears it, so that one run's
 * exhaustion is never read as the cause of a later run's failure (the points of a sweep share a process). The
 * error itself may not reach the caller: tfjs disposes the scope's tensors as the error passes, and tfjs-wasm's
 * free traps on a heap this full ("memory access out of bounds"), which replaces it. The trainer asks for this one
 * to tell the two apart.
 */
export function takeHeapExhaustion(): WasmHeapExhausted | null {
  const r = raised;
  raised = null;
  return r;
}

/** Nothing, where `bytes` for `what` can fit in the 32-bit heap; else WasmHeapExhausted. */
export function checkHeapFits(bytes: number, what: string): void {
  if (bytes > HEAP_LIMIT_BYTES)
    throw new WasmHeapExhausted(`${what} needs ${(bytes / 2 ** 30).toFixed(1)} GiB, past the 4 GiB wasm heap`);
}

/**
 * backend.makeOutput, checked (every kernel here allocates through it): the size must fit the heap, and the
 * allocation must have succeeded. Past what the heap can grow to, emscripten's malloc returns 0, which tfjs does
 * not check: a kernel would then write its output over the bottom of the heap.
 */
export function makeOutput(backend: WasmBackendLike, shape: number[], dtype: string): TensorInfo {
  const bytes = sizeOf(shape) * (dtype === "bool" ? 1 : 4);
  checkHeapFits(bytes, `a [${shape}] ${dtype} output`);
  const out = backend.makeOutput(shape, dtype);
  if (bytes > 0 && backend.typedArrayFromHeap(out).byteOffset === 0)
    throw new WasmHeapExhausted(
      `the wasm heap cannot hold a [${shape}] ${dtype} output (${(bytes / 2 ** 30).toFixed(1)} GiB)`,
    );
  return out;
}
