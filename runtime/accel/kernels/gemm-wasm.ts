// A float32 GEMM for the wasm heap, emitted at run time (wasm-asm.ts), with the relaxed-SIMD fused multiply-add.
//
// Why: XNNPACK's wasm kernels, which tfjs's MatMul calls, are written for SIMD128 without FMA: a multiply and an add
// per four products. Where the engine offers relaxed SIMD (V8 behind --experimental-wasm-relaxed-simd in Node 20, on
// by default from Node 22), f32x4.relaxed_madd compiles to one vfmadd on x86 with FMA3: half the arithmetic
// instructions of the matMuls that are ~85 % of a Zaremba medium training step.
// The layout is the classic one of GotoBLAS (Goto & van de Geijn, "Anatomy of high-performance matrix
// multiplication", TOMS 2008): A is packed into row blocks of MR rows, k-major ([⌈M/MR⌉][K][MR]); B into panels of
// 8 columns, k-major ([K][8]), one panel at a time into a buffer that stays in L1; the micro-kernel keeps an MR × 8
// tile of C in MR·2 vector registers and per k loads two vectors of B and broadcasts MR elements of A.
// Packing reads each operand through (row stride, column stride), so a transposed operand costs nothing extra.
// Rounding: each product is added with one rounding (fused) or two (unfused, where the engine lowers relaxed_madd
// to mul+add); both are within the float32 tolerance the numeric tests allow for any matMul.
import { Body, F32, I32, V128, moduleBytes } from "./wasm-asm.js";

/** Column width of a B panel: two f32x4 vectors. */
export const NR = 8;

/** The exports of the emitted module; all pointers are byte addresses in the shared memory, strides in floats. */
export interface GemmExports {
  /** dst[⌈M/MR⌉][K][MR] ← src(i, k) = src[i·rs + k·cs], rows past M zero. */
  packA(src: number, dst: number, M: number, K: number, rs: number, cs: number): void;
  /** dst[K][8] ← src(k, j0 + c) = src[k·rs + (j0 + c)·cs], columns past N zero. */
  packB(src: number, dst: number, K: number, N: number, j0: number, rs: number, cs: number): void;
  /** C[i, j0 + c] (+)= Σ_k A(i, k)·B(k, c) for one packed panel, all row blocks; `tile` is 4·MR·8 bytes of scratch. */
  panel(
    ap: number,
    bp: number,
    c: number,
    K: number,
    M: number,
    ldc: number,
    nValid: number,
    beta: number,
    tile: number,
  ): void;
  /** dst[r] = max_j src[r, j] for a row-major [rows, cols] src (NaN if the row has one). This and the three below
   * are not GEMM: full SIMD passes that tfjs runs as a scalar loop or as several kernels (simd-passes-wasm.ts). */
  rowMax(src: number, dst: number, rows: number, cols: number): void;
  /** dst[i] = src[i]·s for i < n, s given by its float32 bits. */
  scale(src: number, dst: number, n: number, sBits: number): void;
  /** dst[i] = v[i] − g[i]·s for i < n (an SGD step; rounded after the product, as tf.sub(v, tf.mul(g, s))). */
  subScaled(v: number, g: number, dst: number, n: number, sBits: number): void;
  /** *dst = Σ src[i]² over i < n, in four float32 vector sums (gradient clipping's norm). */
  sumSquares(src: number, n: number, dst: number): void;
}

/** The module's bytes, for `rows` = MR rows per block; `fused` picks relaxed_madd over f32x4.mul + f32x4.add. */
export function gemmModule(rows: number, fused: boolean, shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes(
    [
      { name: "packA", body: packA(rows) },
      { name: "packB", body: packB() },
      { name: "panel", body: panel(rows, fused) },
      { name: "rowMax", body: rowMax() },
      { name: "scale", body: scale() },
      { name: "subScaled", body: subScaled() },
      { name: "sumSquares", body: sumSquares() },
    ],
    shared,
  );
}

// Each loop below is `block { loop { if (done) br 1; …; br 0 } }` or, where the body runs at least once, a
// bottom-tested `loop { …; br_if 0 }`.

/**
 * A bottom-tested loop copying `count` floats (count ≥ 1) from s to d, stepping s by `sStep` bytes (a local, or a
 * local's value computed by the callback) and d by `dStep` bytes: the inner loop of every packing.
 */
function copyFloats(f: Body, k: number, count: number, s: number, d: number, sStep: () => void, dStep: number): void {
  f.get(count).set(k);
  f.loop(() => {
    f.get(d).get(s).f32Load().f32Store();
    f.inc(s, sStep);
    f.inc(d, dStep);
    f.inc(k, -1);
    f.get(k).brIf(0);
  });
}

/** Rows i < M in order; within one, k runs down the source row (contiguous when cs = 1). Pad rows are zeroed by
 * the caller, which owns the buffer. */
function packA(MR: number): Body {
  const f = new Body(6);
  const [src, dst, M, K, rs, cs] = [0, 1, 2, 3, 4, 5];
  const i = f.local(I32),
    k = f.local(I32),
    s = f.local(I32),
    d = f.local(I32);
  f.i32(0).set(i);
  f.block(() =>
    f.loop(() => {
      f.get(i).get(M).geS().brIf(1);
      f.get(src).get(i).get(rs).mul().i32(2).shl().add().set(s); // s = src + i·rs·4
      // d = dst + ((i / MR)·K·MR + i % MR)·4
      f.get(dst).get(i).i32(MR).divU().get(K).mul().i32(MR).mul().get(i).i32(MR).remU().add().i32(2).shl().add().set(d);
      copyFloats(f, k, K, s, d, () => f.get(cs).i32(2).shl(), 4 * MR);
      f.inc(i, 1);
      f.br(0);
    }),
  );
  return f;
}

/** One panel of NR columns from j0. A full panel of a row-major B (cs = 1) is two vector copies per k. */
function packB(): Body {
  const f = new Body(7);
  const [src, dst, K, N, j0, rs, cs] = [0, 1, 2, 3, 4, 5, 6];
  const k = f.local(I32),
    s = f.local(I32),
    d = f.local(I32),
    c = f.local(I32),
    rs4 = f.local(I32);
  f.get(rs).i32(2).shl().set(rs4);
  f.get(K).set(k);
  f.get(dst).set(d);
  f.get(cs).i32(1).eq().get(j0).i32(NR).add().get(N).leS().and();
  f.if(
    () => {
      f.get(src).get(j0).i32(2).shl().add().set(s);
      f.loop(() => {
        f.get(d).get(s).v128Load(0).v128Store(0);
        f.get(d).get(s).v128Load(16).v128Store(16);
        f.inc(s, () => f.get(rs4));
        f.inc(d, 4 * NR);
        f.inc(k, -1);
        f.get(k).brIf(0);
      });
    },
    () => {
      // column by column; columns past N stay as the caller zeroed them
      f.i32(0).set(c);
      f.block(() =>
        f.loop(() => {
          f.get(c).i32(NR).geS().get(j0).get(c).add().get(N).geS().add().brIf(1); // (either ends it: the sum is ≥ 1)
          f.get(src).get(j0).get(c).add().get(cs).mul().i32(2).shl().add().set(s);
          f.get(dst).get(c).i32(2).shl().add().set(d);
          copyFloats(f, k, K, s, d, () => f.get(rs4), 4 * NR);
          f.inc(c, 1);
          f.br(0);
        }),
      );
    },
  );
  return f;
}

/** The micro-kernel over every row block of one panel, and the store of each MR × NR tile into C. */
function panel(MR: number, fused: boolean): Body {
  const f = new Body(9);
  const [ap, bp, c, K, M, ldc, nValid, beta, tile] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const i0 = f.local(I32),
    pa = f.local(I32),
    pb = f.local(I32),
    k = f.local(I32),
    cr = f.local(I32);
  const r = f.local(I32),
    cc = f.local(I32),
    rows = f.local(I32),
    ldc4 = f.local(I32);
  const av = f.local(V128),
    b0 = f.local(V128),
    b1 = f.local(V128);
  const acc = Array.from({ length: MR }, () => [f.local(V128), f.local(V128)] as const);
  const madd = (x: number, y: number, z: number): void => {
    f.get(x).get(y);
    if (fused) f.get(z).f32x4RelaxedMadd();
    else f.f32x4Mul().get(z).f32x4Add();
    f.set(z);
  };
  f.get(ldc).i32(2).shl().set(ldc4);
  f.i32(0).set(i0);
  f.get(ap).set(pa);
  f.block(() =>
    f.loop(() => {
      f.get(i0).get(M).geS().brIf(1);
      for (const [x, y] of acc) f.v128Zero().set(x).v128Zero().set(y);
      f.get(bp).set(pb);
      f.get(K).set(k);
      f.loop(() => {
        f.get(pb).v128Load(0).set(b0);
        f.get(pb).v128Load(16).set(b1);
        for (let q = 0; q < MR; q++) {
          f.get(pa)
            .load32Splat(4 * q)
            .set(av);
          madd(av, b0, acc[q]![0]);
          madd(av, b1, acc[q]![1]);
        }
        f.inc(pa, 4 * MR);
        f.inc(pb, 4 * NR);
        f.inc(k, -1);
        f.get(k).brIf(0);
      });
      // pa now points at the next row block ([⌈M/MR⌉][K][MR] layout)
      f.get(c).get(i0).get(ldc4).mul().add().set(cr);
      f.get(M).get(i0).sub().set(rows);
      f.get(nValid).i32(NR).eq().get(rows).i32(MR).geS().and();
      f.if(
        () => {
          for (const [x, y] of acc) {
            f.get(beta).if(() => {
              f.get(x).get(cr).v128Load(0).f32x4Add().set(x);
              f.get(y).get(cr).v128Load(16).f32x4Add().set(y);
            });
            f.get(cr).get(x).v128Store(0);
            f.get(cr).get(y).v128Store(16);
            f.inc(cr, () => f.get(ldc4));
          }
        },
        () => {
          // a partial tile: through the scratch tile, element by element
          acc.forEach(([x, y], q) => {
            f.get(tile)
              .get(x)
              .v128Store(32 * q);
            f.get(tile)
              .get(y)
              .v128Store(32 * q + 16);
          });
          f.i32(0).set(r);
          f.block(() =>
            f.loop(() => {
              f.get(r).i32(MR).geS().get(r).get(rows).geS().add().brIf(1);
              f.i32(0).set(cc);
              f.block(() =>
                f.loop(() => {
                  f.get(cc).get(nValid).geS().brIf(1);
                  const addr = (): void => void f.get(cr).get(cc).i32(2).shl().add(); // &C[i0 + r, cc]
                  const value = (): void =>
                    void f.get(tile).get(r).i32(5).shl().add().get(cc).i32(2).shl().add().f32Load(); // tile[r][cc]
                  f.get(beta).if(
                    () => {
                      addr();
                      value();
                      addr();
                      f.f32Load().f32Add().f32Store();
                    },
                    () => {
                      addr();
                      value();
                      f.f32Store();
                    },
                  );
                  f.inc(cc, 1);
                  f.br(0);
                }),
              );
              f.inc(cr, () => f.get(ldc4));
              f.inc(r, 1);
              f.br(0);
            }),
          );
        },
      );
      f.inc(i0, MR);
      f.br(0);
    }),
  );
  return f;
}

/**
 * Sixteen elements at a time into four running maxima (one would make each step wait for the last: wasm's
 * NaN-propagating f32x4.max is several instructions deep), then four at a time, then the row's tail. Addresses are
 * compared unsigned (the heap may pass 2 GiB).
 */
function rowMax(): Body {
  const f = new Body(4);
  const [src, dst, rows, cols] = [0, 1, 2, 3];
  const r = f.local(I32),
    p = f.local(I32),
    end16 = f.local(I32),
    end4 = f.local(I32),
    end = f.local(I32);
  const v = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)] as const;
  const m = f.local(F32);
  f.i32(0).set(r);
  f.get(src).set(p);
  f.block(() =>
    f.loop(() => {
      f.get(r).get(rows).geS().brIf(1);
      for (const x of v) f.i32(0xff800000).f32FromBits().f32x4Splat().set(x); // −∞
      f.get(p).get(cols).i32(-16).and().i32(2).shl().add().set(end16);
      f.get(p).get(cols).i32(-4).and().i32(2).shl().add().set(end4);
      f.get(p).get(cols).i32(2).shl().add().set(end);
      f.block(() =>
        f.loop(() => {
          f.get(p).get(end16).geU().brIf(1);
          v.forEach((x, k) =>
            f
              .get(x)
              .get(p)
              .v128Load(16 * k)
              .f32x4Max()
              .set(x),
          );
          f.inc(p, 64);
          f.br(0);
        }),
      );
      f.get(v[0]).get(v[1]).f32x4Max().get(v[2]).get(v[3]).f32x4Max().f32x4Max().set(v[0]);
      f.block(() =>
        f.loop(() => {
          f.get(p).get(end4).geU().brIf(1);
          f.get(v[0]).get(p).v128Load().f32x4Max().set(v[0]);
          f.inc(p, 16);
          f.br(0);
        }),
      );
      const x = v[0];
      f.get(x)
        .f32x4Lane(0)
        .get(x)
        .f32x4Lane(1)
        .f32Max()
        .get(x)
        .f32x4Lane(2)
        .get(x)
        .f32x4Lane(3)
        .f32Max()
        .f32Max()
        .set(m);
      f.block(() =>
        f.loop(() => {
          f.get(p).get(end).geU().brIf(1);
          f.get(m).get(p).f32Load().f32Max().set(m);
          f.inc(p, 4);
          f.br(0);
        }),
      );
      f.get(dst).get(r).i32(2).shl().add().get(m).f32Store();
      f.inc(r, 1);
      f.br(0);
    }),
  );
  return f;
}

function scale(): Body {
  const f = new Body(4);
  const [src, dst, n, sBits] = [0, 1, 2, 3];
  const i = f.local(I32),
    end4 = f.local(I32),
    s = f.local(V128);
  f.get(sBits).f32FromBits().f32x4Splat().set(s);
  f.get(n).i32(-4).and().i32(2).shl().set(end4);
  f.i32(0).set(i);
  f.block(() =>
    f.loop(() => {
      f.get(i).get(end4).geU().brIf(1);
      f.get(dst).get(i).add().get(src).get(i).add().v128Load().get(s).f32x4Mul().v128Store();
      f.inc(i, 16);
      f.br(0);
    }),
  );
  f.block(() =>
    f.loop(() => {
      f.get(i).get(n).i32(2).shl().geU().brIf(1);
      f.get(dst).get(i).add().get(src).get(i).add().f32Load().get(sBits).f32FromBits().f32Mul().f32Store();
      f.inc(i, 4);
      f.br(0);
    }),
  );
  return f;
}

function subScaled(): Body {
  const f = new Body(5);
  const [v, g, dst, n, sBits] = [0, 1, 2, 3, 4];
  const i = f.local(I32),
    end4 = f.local(I32),
    s = f.local(V128);
  f.get(sBits).f32FromBits().f32x4Splat().set(s);
  f.get(n).i32(-4).and().i32(2).shl().set(end4);
  f.i32(0).set(i);
  f.block(() =>
    f.loop(() => {
      f.get(i).get(end4).geU().brIf(1);
      f.get(dst).get(i).add();
      f.get(v).get(i).add().v128Load().get(g).get(i).add().v128Load().get(s).f32x4Mul().f32x4Sub();
      f.v128Store();
      f.inc(i, 16);
      f.br(0);
    }),
  );
  f.block(() =>
    f.loop(() => {
      f.get(i).get(n).i32(2).shl().geU().brIf(1);
      f.get(dst).get(i).add();
      f.get(v).get(i).add().f32Load().get(g).get(i).add().f32Load().get(sBits).f32FromBits().f32Mul().f32Sub();
      f.f32Store();
      f.inc(i, 4);
      f.br(0);
    }),
  );
  return f;
}

function sumSquares(): Body {
  const f = new Body(3);
  const [src, n, dst] = [0, 1, 2];
  const i = f.local(I32),
    end16 = f.local(I32),
    end = f.local(I32),
    x = f.local(V128),
    m = f.local(F32),
    t = f.local(F32);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)] as const;
  for (const a of acc) f.v128Zero().set(a);
  f.get(n).i32(-16).and().i32(2).shl().set(end16);
  f.get(n).i32(2).shl().set(end);
  f.i32(0).set(i);
  f.block(() =>
    f.loop(() => {
      f.get(i).get(end16).geU().brIf(1);
      acc.forEach((a, k) => {
        f.get(src)
          .get(i)
          .add()
          .v128Load(16 * k)
          .tee(x)
          .get(x)
          .f32x4Mul()
          .get(a)
          .f32x4Add()
          .set(a);
      });
      f.inc(i, 64);
      f.br(0);
    }),
  );
  f.get(acc[0]).get(acc[1]).f32x4Add().get(acc[2]).get(acc[3]).f32x4Add().f32x4Add().set(x);
  f.get(x).f32x4Lane(0).get(x).f32x4Lane(1).f32Add().get(x).f32x4Lane(2).get(x).f32x4Lane(3).f32Add().f32Add().set(m);
  f.block(() =>
    f.loop(() => {
      f.get(i).get(end).geU().brIf(1);
      f.get(src).get(i).add().f32Load().tee(t).get(t).f32Mul().get(m).f32Add().set(m);
      f.inc(i, 4);
      f.br(0);
    }),
  );
  f.get(dst).get(m).f32Store();
  return f;
}
