// rnnc's emitted GEMM (runtime/kernels/gemm*.ts, runtime/accel/kernels/wasm-asm.ts) against a float64 reference product, on memories of
// its own: shapes with row and column tails, transposed operands (read in place by the packing), accumulation,
// K split into blocks, right operands packed ahead, and the split across worker threads (which must not change a
// single bit: every element of C is summed by one thread in the same order). Then RnncMatMul on the wasm backend
// against tf.matMul on cpu, values and gradients.
// Tolerance: float32 products of K terms, |a − b| ≤ 1e-5·(1 + Σ|a_ik b_kj|).
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../../runtime/accel/backend.js";
import {
  matMul,
  matMulRight,
  rightOperand,
  gemmActive,
  rowMax,
  softmaxGrad,
  subScaled,
  sumSquares,
} from "../../../runtime/accel/fast-ops.js";
import { Gemm, fusedMultiplyAddAvailable, packedFloats, type Operand } from "../../../runtime/accel/kernels/gemm.js";
import { gemmModule } from "../../../runtime/accel/kernels/gemm-wasm.js";
import { sleb, uleb } from "../../../runtime/accel/kernels/wasm-asm.js";
import { Rng } from "../../../runtime/base/rng.js";

const fma = fusedMultiplyAddAvailable();

describe("wasm binary writer", () => {
  it("LEB128 encodes as the spec's examples", () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-64)).toEqual([0x40]);
  });
  it("emits modules the engine validates, fused and unfused, shared memory or not", () => {
    for (const rows of [4, 6])
      for (const shared of [true, false]) expect(WebAssembly.validate(gemmModule(rows, false, shared))).toBe(true);
    if (fma) expect(WebAssembly.validate(gemmModule(4, true, true))).toBe(true);
  });
});

/** A bump allocator over a memory of the test's own (emscripten's malloc plays this part under tfjs). */
function testHeap(shared: boolean, pages = 1024, maximum = 65536) {
  const memory = shared
    ? new WebAssembly.Memory({ initial: pages, maximum, shared: true })
    : new WebAssembly.Memory({ initial: pages });
  let top = 64;
  const heap = {
    malloc: (n: number): number => {
      const p = top;
      top += Math.ceil(n / 64) * 64;
      return p;
    },
    free: (): void => {},
  };
  const f32 = () => new Float32Array(memory.buffer);
  const put = (data: Float32Array): number => {
    const p = heap.malloc(4 * data.length);
    f32().set(data, p / 4);
    return p;
  };
  return { memory, heap, f32, put };
}

interface Case {
  M: number;
  N: number;
  K: number;
  tA: boolean;
  tB: boolean;
  accumulate?: boolean;
  packed?: boolean;
}

/** C of one case, on a Gemm with `threads` threads; with its float64 reference and the Σ|a b| bound. */
function runCase(
  c: Case,
  threads: number,
  seed: number,
): { got: Float32Array; want: Float64Array; bound: Float64Array } {
  const rng = new Rng(seed);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
  const h = testHeap(threads > 1);
  const g = new Gemm(h.memory, h.heap, threads);
  const { M, N, K } = c;
  const A = rand(M * K),
    B = rand(K * N),
    C0 = rand(M * N);
  const a: Operand = { ptr: h.put(A), rowStride: c.tA ? 1 : K, colStride: c.tA ? M : 1 };
  const b: Operand = { ptr: h.put(B), rowStride: c.tB ? 1 : N, colStride: c.tB ? K : 1 };
  const cp = h.put(C0);
  let right: Operand | { packed: number } = b;
  if (c.packed) {
    const dst = h.heap.malloc(4 * packedFloats(K, N));
    g.packRight(b, K, N, dst);
    right = { packed: dst };
  }
  g.run(a, right, cp, N, M, N, K, c.accumulate ?? false);
  const got = h.f32().slice(cp / 4, cp / 4 + M * N);
  g.dispose();
  const want = new Float64Array(M * N),
    bound = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = c.accumulate ? C0[i * N + j]! : 0,
        m = Math.abs(s);
      for (let k = 0; k < K; k++) {
        const p = A[i * a.rowStride + k * a.colStride]! * B[k * b.rowStride + j * b.colStride]!;
        s += p;
        m += Math.abs(p);
      }
      want[i * N + j] = s;
      bound[i * N + j] = m;
    }
  return { got, want, bound };
}

const CASES: Case[] = [
  { M: 1, N: 1, K: 1, tA: false, tB: false },
  { M: 37, N: 29, K: 13, tA: false, tB: false }, // row tail 1, column tail 5
  { M: 37, N: 29, K: 13, tA: true, tB: true },
  { M: 6, N: 17, K: 40, tA: true, tB: false, accumulate: true },
  { M: 20, N: 64, K: 33, tA: false, tB: true, packed: true }, // a recurrent step's shape, packed ahead
  { M: 9, N: 21, K: 50, tA: false, tB: true, packed: true }, // packed, with a column tail
  { M: 70, N: 12, K: 8000, tA: false, tB: false }, // packed A over 2 MiB: K runs in blocks
  { M: 70, N: 13, K: 8000, tA: true, tB: true, packed: true, accumulate: true },
  { M: 131, N: 200, K: 45, tA: false, tB: false }, // enough work to split across threads
  { M: 0, N: 5, K: 3, tA: false, tB: false },
  { M: 3, N: 5, K: 0, tA: false, tB: false },
];

describe.skipIf(!fma)("emitted GEMM (relaxed-SIMD FMA) against a float64 reference", () => {
  for (const c of CASES)
    it(`${c.M}×${c.K}${c.tA ? "ᵀ" : ""} · ${c.K}×${c.N}${c.tB ? "ᵀ" : ""}${c.accumulate ? ", accumulated" : ""}${c.packed ? ", packed ahead" : ""}`, () => {
      const one = runCase(c, 1, 7);
      one.got.forEach((x, k) =>
        expect(Math.abs(x - one.want[k]!), `C[${k}]: ${x} vs ${one.want[k]}`).toBeLessThanOrEqual(
          1e-5 * (1 + one.bound[k]!),
        ),
      );
      const three = runCase(c, 3, 7); // caller and two workers
      expect(Array.from(three.got)).toEqual(Array.from(one.got)); // bit for bit
    });

  it("a kernel that traps in a worker fails the product, in the caller, and the next product runs", () => {
    // B's columns (stored as rows of Bᵀ) run off the end of a memory that cannot grow: only the second half of the
    // panels, the worker's, reads past it.
    const { memory, heap } = testHeap(true, 8, 8);
    const g = new Gemm(memory, heap, 2);
    const M = 100,
      N = 64,
      K = 200;
    const a = { ptr: heap.malloc(4 * M * K), rowStride: K, colStride: 1 };
    const c = heap.malloc(4 * M * N);
    const end = memory.buffer.byteLength;
    expect(() => g.run(a, { ptr: end - 4 * (N / 2) * K, rowStride: 1, colStride: K }, c, N, M, N, K)).toThrow(
      /GEMM failed in worker 1/,
    );
    const f = new Float32Array(memory.buffer);
    const b = heap.malloc(4 * K * N);
    f.fill(1, a.ptr / 4, a.ptr / 4 + M * K);
    f.fill(0.5, b / 4, b / 4 + K * N);
    g.run(a, { ptr: b, rowStride: N, colStride: 1 }, c, N, M, N, K);
    expect(Array.from(f.subarray(c / 4, c / 4 + M * N)).every((x) => x === 100)).toBe(true);
    g.dispose();
  });

  it("a flipped operand is caught: Aᵀ read as A differs", () => {
    const c: Case = { M: 8, N: 8, K: 8, tA: true, tB: false };
    const r = runCase(c, 1, 3);
    const asPlain = runCase({ ...c, tA: false }, 1, 3);
    expect(Array.from(r.got)).not.toEqual(Array.from(asPlain.got));
  });
});

describe.skipIf(!fma)("RnncMatMul on wasm against tf.matMul on cpu", () => {
  let previous = "";
  beforeAll(() => {
    previous = tf.getBackend();
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  const rng = new Rng(11);
  const data = (n: number) => Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
  const A = data(23 * 31),
    B = data(31 * 19),
    DY = data(23 * 19);

  interface Got {
    gemm: boolean;
    y: number[];
    da: number[];
    db: number[];
    packed: number[] | null;
  }

  async function on(backend: "cpu" | "wasm", tA: boolean, tB: boolean): Promise<Got> {
    await selectBackend(backend);
    let got: Got | null = null;
    tf.tidy(() => {
      const a = tf.tensor2d(A, tA ? [31, 23] : [23, 31]),
        b = tf.tensor2d(B, tB ? [19, 31] : [31, 19]),
        dy = tf.tensor2d(DY, [23, 19]);
      const f = (x: tf.Tensor, y: tf.Tensor) => matMul(x as tf.Tensor2D, y as tf.Tensor2D, tA, tB);
      const [da, db] = tf.grads(f)([a, b], dy);
      const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());
      const packed = tB ? null : values(matMulRight(a.shape[0] === 23 && !tA ? a : tf.transpose(a), rightOperand(b)));
      got = { gemm: gemmActive(), y: values(f(a, b)), da: values(da!), db: values(db!), packed };
    });
    return got!;
  }

  for (const [tA, tB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const)
    it(`op(a)·op(b) and its gradients, transposeA ${tA}, transposeB ${tB}`, async () => {
      const w = await on("wasm", tA, tB);
      const c = await on("cpu", tA, tB);
      expect([w.gemm, c.gemm]).toEqual([true, false]);
      for (const k of ["y", "da", "db", "packed"] as const) {
        if (!c[k]) continue;
        const got = w[k]!,
          want = c[k]!;
        expect(got.length).toBe(want.length);
        want.forEach((x, i) => expect(Math.abs(got[i]! - x), `${k}[${i}]`).toBeLessThanOrEqual(1e-4));
      }
    });
});

describe.skipIf(!fma)("the SIMD passes on wasm against tfjs's ops on cpu", () => {
  let previous = "";
  beforeAll(() => {
    previous = tf.getBackend();
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  // 7 rows of 23 (a 3-element tail after the vectors); a NaN in row 5 must come out as NaN
  const rng = new Rng(5);
  const X = Float32Array.from({ length: 7 * 23 }, () => rng.uniform() * 20 - 10);
  X[5 * 23 + 21] = NaN;
  const P = Float32Array.from({ length: 7 * 23 }, () => rng.uniform());
  const targets = Int32Array.from([0, 22, 3, 3, 11, 19, 7]);

  // an update's operands: [3, 7, 5] (105 elements: a 1-element tail after the vectors)
  const W = Float32Array.from({ length: 105 }, () => rng.uniform() * 2 - 1);
  const G = Float32Array.from({ length: 105 }, () => rng.uniform() * 8 - 4);

  async function on(backend: "cpu" | "wasm") {
    await selectBackend(backend);
    return tf.tidy(() => ({
      gemm: gemmActive(),
      step: Array.from(subScaled(tf.tensor3d(W, [3, 7, 5]), tf.tensor3d(G, [3, 7, 5]), 0.173).dataSync()),
      squares: sumSquares(tf.tensor3d(G, [3, 7, 5])).dataSync()[0]!,
      max: Array.from(rowMax(tf.tensor2d(X, [7, 23])).dataSync()),
      grad: Array.from(softmaxGrad(tf.tensor2d(P, [7, 23]), tf.tensor1d(targets, "int32"), tf.scalar(0.37)).dataSync()),
    }));
  }

  it("an SGD step w − lr·g, bit for bit, and Σg² to float32 rounding", async () => {
    const w = await on("wasm");
    const c = await on("cpu");
    expect([w.gemm, c.gemm]).toEqual([true, false]);
    expect(w.step).toEqual(c.step);
    const exact = Array.from(G).reduce((s, x) => s + x * x, 0);
    expect(Math.abs(w.squares - exact)).toBeLessThanOrEqual(1e-6 * exact);
  });

  it("row maxima and (p − onehot)·s, bit for bit", async () => {
    const w = await on("wasm");
    const c = await on("cpu");
    expect([w.gemm, c.gemm]).toEqual([true, false]);
    expect(w.max[5]).toBeNaN();
    expect(w.max.filter((_, k) => k !== 5)).toEqual(c.max.filter((_, k) => k !== 5));
    expect(w.grad).toEqual(c.grad);
    expect(w.grad[22 + 23]).toBeLessThan(0); // row 1's target
  });
});
