// The driver of the emitted GEMM (gemm-wasm.ts): packing buffers on the wasm heap, and the split of each product
// across threads. Each thread owns a contiguous range of B's 8-column panels: it packs one panel into its own
// buffer (K·8 floats, which stay in L1/L2) and runs every row block of the packed A over it. A is packed by the
// calling thread, once per K block, before the others start on that block.
//
// Threads: Node worker_threads, each instantiating the same module over the same shared memory (the threaded wasm
// build's heap is a SharedArrayBuffer). They wait on a control block with Atomics.wait; the caller does the first
// range itself and then waits for the rest. Where the heap is not shared, the caller does all the work.
import v8 from "node:v8";
import { Worker } from "node:worker_threads";
import { gemmModule, NR, type GemmExports } from "./gemm-wasm.js";
import { checkHeapFits, WasmHeapExhausted } from "./wasm-heap.js";

/** Rows per block of packed A: of 4, 5 and 6, 4 measured fastest (700·650·2600: 37.5, 33.1, 36.3 GFLOP/s). */
export const MR = 4;
/**
 * Below this many multiply-adds a product runs on the calling thread alone: waking a sleeping worker costs tens to
 * hundreds of µs on the 2-core VMs measured (a 20·200·800 step product: 164 µs alone, 123–238 µs with a worker).
 */
const PARALLEL_MIN_MACS = 1 << 20;

/** The heap's allocator (emscripten's malloc and free, exported by tfjs's wasm module). */
export interface HeapAllocator {
  malloc(bytes: number): number;
  free(ptr: number): void;
}

/** One operand in the heap: its byte address, and the strides (in floats) of its logical rows and columns. */
export interface Operand {
  ptr: number;
  rowStride: number;
  colStride: number;
}

/** A right operand packed ahead (packRight): ⌈N/8⌉ panels of [K][8], for products that reuse it. */
export interface PackedOperand {
  packed: number;
}

/** Floats of a right operand packed whole: ⌈N/8⌉ panels of K × 8. */
export const packedFloats = (K: number, N: number): number => Math.ceil(N / NR) * K * NR;

/**
 * The packed A of one K block should stay in L2 (2 MiB a core on the machine measured) while every panel streams
 * over it: blocks of at most this many bytes. Measured, 2 threads: 1, 2 and 8 MiB gave 63, 72 and 73 GFLOP/s for
 * 700·650·10 000 (one block at 2 MiB), and 67, 67 and 44 for 700·10 000·650 (K = 10 000 in 14, 7 and 2 blocks).
 */
const A_BLOCK_BYTES = 1 << 21;

// The control block shared with each worker: a job sequence number it waits on, the one it last finished, a
// quit flag, a failure flag (its job threw: a trap in the kernel), and the job (JOB_FIELDS, in runPanels' order).
const SEQ = 0,
  DONE = 1,
  QUIT = 2,
  FAILED = 3,
  JOB = 4;
const JOB_FIELDS = 16;

export class Gemm {
  private readonly ex: GemmExports;
  private readonly heap: HeapAllocator;
  private readonly workers: Array<{
    worker: Worker;
    ctl: Int32Array;
    job: Uint32Array;
    seq: number;
    panel: number;
    tile: number;
    panelFloats: number;
  }> = [];
  private aPack = 0;
  private aFloats = 0;
  private readonly own = { panel: 0, tile: 0, panelFloats: 0 };
  private view: Float32Array;

  /** Compiles and instantiates the kernels; `threads` − 1 workers join the caller where the memory is shared. */
  constructor(
    private readonly memory: WebAssembly.Memory,
    heap: HeapAllocator,
    threads: number,
  ) {
    // Addresses as unsigned (a heap past 2 GiB gives pointers past 2³¹), and 0 for a failed malloc: an error, raised
    // before a kernel writes through it.
    this.heap = {
      malloc: (bytes: number): number => {
        checkHeapFits(bytes, "a GEMM packing buffer");
        const p = heap.malloc(bytes) >>> 0;
        if (p === 0) throw new WasmHeapExhausted(`the wasm heap cannot hold a GEMM packing buffer of ${bytes} bytes`);
        return p;
      },
      free: (p: number): void => heap.free(p),
    };
    const shared = memory.buffer instanceof SharedArrayBuffer;
    if (!relaxedSimd())
      throw new Error("rnnc's GEMM needs WebAssembly relaxed SIMD, which this engine does not compile");
    const module = new WebAssembly.Module(gemmModule(MR, true, shared));
    this.ex = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as GemmExports;
    this.view = new Float32Array(memory.buffer);
    this.own.tile = this.heap.malloc(4 * MR * NR);
    const source = `${runPanels.toString()}\n(${workerMain.toString()})()`;
    for (let t = 1; shared && t < threads; t++) {
      const sab = new SharedArrayBuffer(4 * (JOB + JOB_FIELDS));
      const ctl = new Int32Array(sab);
      const job = new Uint32Array(sab, 4 * JOB, JOB_FIELDS); // addresses may pass 2³¹
      const worker = new Worker(source, { eval: true, workerData: { module, memory, ctl, job } });
      worker.unref(); // an idle worker must not keep the process alive
      this.workers.push({ worker, ctl, job, seq: 0, panel: 0, tile: this.heap.malloc(4 * MR * NR), panelFloats: 0 });
    }
  }

  get threads(): number {
    return 1 + this.workers.length;
  }

  /** Packs b (K × N) whole into dst (packedFloats(K, N) floats), for products that reuse it. */
  packRight(b: Operand, K: number, N: number, dst: number): void {
    const f = this.f32();
    for (let p = 0, j0 = 0; j0 < N; p++, j0 += NR) {
      const panel = dst + 4 * p * K * NR;
      if (N - j0 < NR) f.fill(0, panel / 4, panel / 4 + K * NR); // columns past N: zero
      this.ex.packB(b.ptr, panel, K, N, j0, b.rowStride, b.colStride);
    }
  }

  /**
   * C[M, N] = A(M × K)·B(K × N), or C += A·B with `accumulate`; C is row-major with row stride ldc. K runs in
   * blocks whose packed A fits A_BLOCK_BYTES; each block is one round of the threads over the panels.
   */
  run(
    a: Operand,
    b: Operand | PackedOperand,
    c: number,
    ldc: number,
    M: number,
    N: number,
    K: number,
    accumulate = false,
  ): void {
    if (M === 0 || N === 0) return;
    if (K === 0) {
      if (!accumulate) for (let i = 0; i < M; i++) this.f32().fill(0, c / 4 + i * ldc, c / 4 + i * ldc + N);
      return;
    }
    const blocks = Math.ceil(M / MR);
    const kBlocks = Math.ceil((4 * blocks * MR * K) / A_BLOCK_BYTES);
    const kc = Math.ceil(K / kBlocks);
    this.reserveA(blocks * MR * kc);
    const panels = Math.ceil(N / NR);
    const parts = M * N * K < PARALLEL_MIN_MACS ? 1 : Math.min(this.threads, panels);
    const start = (t: number): number => Math.floor((panels * t) / parts);
    for (const w of [this.own, ...this.workers.slice(0, parts - 1)]) {
      if (w.panelFloats >= kc * NR) continue;
      if (w.panel) this.heap.free(w.panel);
      w.panel = this.heap.malloc(4 * kc * NR);
      w.panelFloats = kc * NR;
    }
    const packed = "packed" in b;
    for (let k0 = 0; k0 < K; k0 += kc) {
      const kn = Math.min(kc, K - k0);
      // the last row block's missing rows (interleaved with its others, k-major) must be zero: the kernel runs full blocks
      if (M % MR) this.f32().fill(0, this.aPack / 4 + (blocks - 1) * MR * kn, this.aPack / 4 + blocks * MR * kn);
      this.ex.packA(a.ptr + 4 * k0 * a.colStride, this.aPack, M, kn, a.rowStride, a.colStride);
      const bPtr = packed ? b.packed : b.ptr + 4 * k0 * b.rowStride;
      const job = (t: number, panel: number, tile: number): number[] => [
        this.aPack,
        bPtr,
        c,
        M,
        N,
        kn,
        packed ? 0 : b.rowStride,
        packed ? 0 : b.colStride,
        ldc,
        accumulate || k0 > 0 ? 1 : 0,
        start(t),
        start(t + 1),
        panel,
        tile,
        packed ? K : 0,
        k0,
      ];
      for (let t = 1; t < parts; t++) {
        const w = this.workers[t - 1]!;
        w.job.set(job(t, w.panel, w.tile));
        Atomics.store(w.ctl, SEQ, ++w.seq);
        Atomics.notify(w.ctl, SEQ);
      }
      // However this thread's part ends, the workers' parts are waited for: none may still write into C after
      // run returns, or throws.
      let failure: unknown = null;
      try {
        runPanels(this.ex, this.f32(), job(0, this.own.panel, this.own.tile));
      } catch (e) {
        failure = e;
      }
      for (let t = 1; t < parts; t++) {
        const w = this.workers[t - 1]!;
        for (let done; (done = Atomics.load(w.ctl, DONE)) !== w.seq;) Atomics.wait(w.ctl, DONE, done);
        // a worker whose kernel trapped still reports the job done (else this thread would wait forever): say so
        if (Atomics.exchange(w.ctl, FAILED, 0))
          failure ??= new Error(`rnnc's GEMM failed in worker ${t} (a ${M}×${K}·${K}×${N} product)`);
      }
      if (failure) throw failure;
    }
  }

  /** dst[r] = max of row r of a row-major [rows, cols] src (the emitted module's rowMax). */
  rowMax(src: number, dst: number, rows: number, cols: number): void {
    this.ex.rowMax(src, dst, rows, cols);
  }

  /** dst[i] = src[i]·s, i < n, in float32 (the emitted module's scale). */
  scale(src: number, dst: number, n: number, s: number): void {
    this.ex.scale(src, dst, n, f32Bits(s));
  }

  /** dst[i] = v[i] − g[i]·s, i < n, in float32 (the emitted module's subScaled). */
  subScaled(v: number, g: number, dst: number, n: number, s: number): void {
    this.ex.subScaled(v, g, dst, n, f32Bits(s));
  }

  /** *dst = Σ src[i]², i < n (the emitted module's sumSquares). */
  sumSquares(src: number, n: number, dst: number): void {
    this.ex.sumSquares(src, n, dst);
  }

  /** Stops the workers and frees the buffers. */
  dispose(): void {
    for (const w of this.workers) {
      Atomics.store(w.ctl, QUIT, 1);
      Atomics.store(w.ctl, SEQ, ++w.seq);
      Atomics.notify(w.ctl, SEQ);
      for (const p of [w.panel, w.tile]) if (p) this.heap.free(p);
    }
    for (const p of [this.aPack, this.own.panel, this.own.tile]) if (p) this.heap.free(p);
    this.workers.length = 0;
  }

  private reserveA(floats: number): void {
    if (this.aFloats >= floats) return;
    if (this.aPack) this.heap.free(this.aPack);
    this.aPack = this.heap.malloc(4 * floats);
    this.aFloats = floats;
  }

  /** A float view of the whole heap, renewed when the heap has grown (a malloc may grow it). */
  private f32(): Float32Array {
    if (this.view.buffer !== this.memory.buffer || this.view.length * 4 !== this.memory.buffer.byteLength)
      this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }
}

/** The bits of s rounded to float32, as an i32 (how the emitted module takes a float parameter). */
const f32Bits = (s: number): number => new Int32Array(new Float32Array([s]).buffer)[0]!;

/**
 * Panels [p0, p1) of one K block (kc deep): pack each into `panel` (or find it in the right operand packed ahead,
 * [⌈N/8⌉][Kp][8], when Kp > 0: the block starts at row k0 of its panel), then run every row block of the packed A
 * over it. The caller runs it, and each worker runs it from its source text: it must not close over anything.
 */
function runPanels(ex: GemmExports, f32: Float32Array, job: ArrayLike<number>): void {
  const [ap, b, c, M, N, kc, rsB, csB, ldc, beta, p0, p1, panel, tile, Kp, k0] = job as unknown as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  for (let p = p0; p < p1; p++) {
    const j0 = p * 8;
    const nValid = Math.min(8, N - j0);
    let bp = panel;
    if (Kp > 0) bp = b + 4 * (p * Kp + k0) * 8;
    else {
      if (nValid < 8) f32.fill(0, panel / 4, panel / 4 + kc * 8); // columns past N: zero
      ex.packB(b, panel, kc, N, j0, rsB, csB);
    }
    ex.panel(ap, bp, c + 4 * j0, kc, M, ldc, nValid, beta, tile);
  }
}

/**
 * The body of each worker, run from its source text after runPanels': it instantiates the module over the shared
 * memory and runs the jobs it is given until told to quit.
 */
function workerMain(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { workerData } = require("node:worker_threads") as typeof import("node:worker_threads");
  const { module, memory, ctl, job } = workerData as {
    module: WebAssembly.Module;
    memory: WebAssembly.Memory;
    ctl: Int32Array;
    job: Uint32Array;
  };
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as GemmExports;
  const SEQ_ = 0,
    DONE_ = 1,
    QUIT_ = 2,
    FAILED_ = 3;
  let seen = 0;
  let f32 = new Float32Array(memory.buffer);
  for (;;) {
    Atomics.wait(ctl, SEQ_, seen);
    seen = Atomics.load(ctl, SEQ_);
    if (Atomics.load(ctl, QUIT_)) return;
    if (f32.length * 4 !== memory.buffer.byteLength) f32 = new Float32Array(memory.buffer); // the heap grew
    try {
      runPanels(ex, f32, job);
    } catch {
      Atomics.store(ctl, FAILED_, 1);
    }
    Atomics.store(ctl, DONE_, seen);
    Atomics.notify(ctl, DONE_);
  }
}

/** Whether the engine compiles relaxed SIMD, after turning on V8's flag for it where it is still behind one. */
function relaxedSimd(probe = gemmModule(MR, true, false)): boolean {
  if (WebAssembly.validate(probe)) return true;
  v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  return WebAssembly.validate(probe);
}

/**
 * Whether this engine runs f32x4.relaxed_madd fused (one rounding), enabling V8's relaxed-SIMD flag first where it
 * is still behind one (Node 20). Where the engine lowers it to a multiply and an add (no FMA in the CPU), the
 * emitted kernel would be no faster than XNNPACK's, so it is not used: the probe computes (1 + 2⁻²³)(1 − 2⁻²³) − 1,
 * which is −2⁻⁴⁶ fused and 0 unfused.
 */
export function fusedMultiplyAddAvailable(): boolean {
  const probe = gemmModule(MR, true, false);
  if (!relaxedSimd(probe)) return false;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(probe), { env: { memory } })
    .exports as unknown as GemmExports;
  const f = new Float32Array(memory.buffer);
  // A = [1, 1 + 2⁻²³] (1 × 2, packed k-major in blocks of MR rows), B = [−1; 1 − 2⁻²³] (2 × 1, packed in rows of
  // NR): C = −1 + (1 + 2⁻²³)(1 − 2⁻²³), accumulated from exactly −1 after k = 0.
  const A = 0,
    B = 64,
    C = 192,
    TILE = 256;
  f[A / 4] = 1;
  f[A / 4 + MR] = 1 + 2 ** -23;
  f[B / 4] = -1;
  f[B / 4 + NR] = 1 - 2 ** -23;
  ex.panel(A, B, C, 2, 1, 1, 1, 0, TILE);
  return f[C / 4] !== 0;
}
