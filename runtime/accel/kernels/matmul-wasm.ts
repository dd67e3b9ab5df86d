// RnncMatMul: the fused ops' matMuls (accel/fast-ops.ts matMul) on the wasm backend, run by the relaxed-SIMD GEMM of
// gemm.ts instead of XNNPACK. Transposed operands are read in place: the GEMM packs each operand through strides,
// so aᵀ·b needs no transpose kernel (XNNPACK's path with a transpose flag is ~10× slower, measured per kernel on tfjs 4.22).
// Measured on a 2-core AVX-512 machine: 700·650·2600 in 63–67 ms on one thread (35–37.5 GFLOP/s; XNNPACK took
// 99–116 ms, 24 GFLOP/s) and 32–37 ms on two (66–73 GFLOP/s).
import { type KernelConfig, type TensorInfo } from "@tensorflow/tfjs";
import { Gemm, fusedMultiplyAddAvailable, packedFloats } from "./gemm.js";
import { makeOutput, type WasmBackendLike } from "./wasm-heap.js";

export const RNNC_MATMUL = "RnncMatMul";
export const RNNC_PACK_RIGHT = "RnncPackRight";

export interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  /** > 0: b is a right operand packed ahead (RnncPackRight) with this many columns; transposeB is then unused. */
  packedColumns: number;
}

export interface PackRightAttrs {
  /** Pack bᵀ rather than b. */
  transpose: boolean;
}

/** The parts of tfjs's wasm module (emscripten) the GEMM needs: its memory and allocator. */
interface EmscriptenModule {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

let gemm: Gemm | null = null;

/**
 * Starts the GEMM over the wasm backend's heap, with `threads` threads, when this engine has a fused multiply-add
 * (gemm.ts fusedMultiplyAddAvailable). Returns a line for the backend's description, or null when it is not used.
 */
export function startWasmGemm(backend: unknown, threads: number): string | null {
  if (gemm) return describe(gemm);
  if (process.env.RNNC_GEMM === "xnnpack") return null; // the escape hatch, and the A/B switch of the benchmark
  const wasm = (backend as { wasm?: EmscriptenModule }).wasm;
  const memory = wasm?.wasmMemory ?? wasm?.asm?.memory;
  if (!wasm || !memory || !fusedMultiplyAddAvailable()) return null;
  gemm = new Gemm(memory, { malloc: (n) => wasm._malloc(n), free: (p) => wasm._free(p) }, threads);
  return describe(gemm);
}

const describe = (g: Gemm): string => `matMul: relaxed-SIMD FMA GEMM, ${g.threads} thread${g.threads === 1 ? "" : "s"}`;

/** The GEMM, once started (for the other kernels of its module, simd-passes-wasm.ts). */
export function wasmGemm(): Gemm | null {
  return gemm;
}

/** Whether RnncMatMul runs (the wasm backend with the GEMM started). */
export function wasmGemmActive(): boolean {
  return gemm !== null;
}

export const matMulWasm: KernelConfig = {
  kernelName: RNNC_MATMUL,
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { a, b } = inputs as Record<"a" | "b", TensorInfo>;
    const { transposeA, transposeB, packedColumns } = attrs as unknown as MatMulAttrs;
    if (!gemm) throw new Error(`${RNNC_MATMUL} runs only after startWasmGemm`);
    const be = backend as unknown as WasmBackendLike;
    const [M, K] = transposeA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const packed = packedColumns > 0;
    const [K2, N] = packed ? [K, packedColumns] : transposeB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    const fits =
      a.shape.length === 2 && (packed ? b.shape[0] === packedFloats(K, N) : b.shape.length === 2 && K === K2);
    if (!fits)
      throw new Error(
        `${RNNC_MATMUL}: shapes [${a.shape}]${transposeA ? "ᵀ" : ""} and [${b.shape}]${transposeB ? "ᵀ" : ""}${packed ? ` (packed, ${N} columns)` : ""} do not multiply`,
      );
    const out = makeOutput(be, [M, N], "float32");
    // addresses only now: makeOutput may grow the heap (the GEMM's own mallocs may too, but addresses stay valid)
    const ptr = (t: TensorInfo): number => be.typedArrayFromHeap(t).byteOffset;
    gemm.run(
      { ptr: ptr(a), rowStride: transposeA ? 1 : K, colStride: transposeA ? M : 1 },
      packed ? { packed: ptr(b) } : { ptr: ptr(b), rowStride: transposeB ? 1 : N, colStride: transposeB ? K : 1 },
      ptr(out),
      N,
      M,
      N,
      K,
    );
    return out;
  },
};

/** A right operand packed for reuse: every step of a window multiplies by the same U (and, backward, Uᵀ). */
export const packRightWasm: KernelConfig = {
  kernelName: RNNC_PACK_RIGHT,
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { b } = inputs as Record<"b", TensorInfo>;
    const { transpose } = attrs as unknown as PackRightAttrs;
    if (!gemm) throw new Error(`${RNNC_PACK_RIGHT} runs only after startWasmGemm`);
    const be = backend as unknown as WasmBackendLike;
    const [K, N] = transpose ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    const out = makeOutput(be, [packedFloats(K, N)], "float32");
    const ptr = (t: TensorInfo): number => be.typedArrayFromHeap(t).byteOffset;
    gemm.packRight({ ptr: ptr(b), rowStride: transpose ? 1 : N, colStride: transpose ? K : 1 }, K, N, ptr(out));
    return out;
  },
};
