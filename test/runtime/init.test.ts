// Weight initialization (runtime/model/init.ts) and where RecurrentLayer puts it:
//   uniform(r): every entry in [−r, r], mean 0 and E[x²] = r²/3 within 5 standard errors (Zaremba et al. 2014 §4.1
//     use U(±0.1)/U(±0.05)/U(±0.04)); U(±1/√H) and Xavier-uniform likewise with their own bounds; normal(σ): E[x²] = σ²;
//   orthogonal (Saxe et al. 2014): ONE matrix over all its columns, gate blocks included (Cooijmans et al. 2017, §2.1:
//     W_h ∈ R^{dh×4dh} is one matrix; the authors' code draws orthogonal((H, 4H))): QᵀQ = gain²·I when tall or
//     square, QQᵀ = gain²·I when wide, over the whole matrix;
//   identity (Le et al. 2015): one [rows, cols] identity; on a recurrent layer's U, the identity on the candidate
//     block only (LSTM g, GRU n, the RNN's only block) and the gate blocks one matrix drawn by the layer's `init`
//     (the authors' code: concatenate([eye(H), orthogonal((H, 3H))]));
//   RecurrentLayer: W gets `init`, U gets `recurrentInit`; the LSTM forget-gate bias goes to block F of the
//     [i | f | o | g] layout (LSTM_GATES) and nowhere else, and it is the gate that multiplies c_{t−1};
//   a spec: `init orthogonal  recurrent_init identity`, compiled and generated, builds layers with that layout.
// Statistical bounds: for n draws, the sample mean has standard error s/√n (s² = r²/3 for U(±r)); the mean of x²
// has standard error √(Var x²/n), Var x² = 4r⁴/45 for U(±r), 2σ⁴ for N(0, σ²). Tolerance for orthonormality:
// float32 entries (relative rounding 6e-8), dot products of ≤ 32 terms: |QᵀQ − I| ≤ 1e-6; the blocked method
// (more than 128 vectors) projects in float32 on the backend: 1e-5.
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { fsHost } from "../../compiler/cli/fs-host.js";
import { generate } from "../../compiler/codegen/index.js";
import { compile } from "../../compiler/compile.js";
import type { CompilerHost } from "../../compiler/host.js";
import { selectBackend } from "../../runtime/accel/backend.js";
import {
  identity,
  initMatrix,
  normal,
  orthogonal,
  uniform,
  uniformInvSqrtHidden,
  xavierUniform,
} from "../../runtime/model/init.js";
import { LSTM_GATES } from "../../runtime/model/lstm.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { RecurrentLayer } from "../../runtime/model/recurrent-layer.js";
import { Rng } from "../../runtime/base/rng.js";
import { expectClose } from "./close.js";
import { tensorOf, toF64, uniformArray } from "./reference.js";

/** Mean and mean square of an array, in float64. */
function moments(a: ArrayLike<number>): { mean: number; meanSq: number; maxAbs: number } {
  let s = 0,
    s2 = 0,
    mx = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]!;
    s2 += a[i]! ** 2;
    mx = Math.max(mx, Math.abs(a[i]!));
  }
  return { mean: s / a.length, meanSq: s2 / a.length, maxAbs: mx };
}

/** Check U(±r) draws: the range (with the edge reached: P(all |x| < 0.99r) = 0.99ⁿ ≈ 0), mean and E[x²]. */
function expectUniform(a: ArrayLike<number>, r: number): void {
  const n = a.length;
  const m = moments(a);
  expect(m.maxAbs).toBeLessThanOrEqual(r);
  expect(m.maxAbs).toBeGreaterThan(0.99 * r);
  expect(Math.abs(m.mean)).toBeLessThan((5 * (r / Math.sqrt(3))) / Math.sqrt(n));
  expect(Math.abs(m.meanSq - r ** 2 / 3)).toBeLessThan(5 * Math.sqrt((4 * r ** 4) / 45 / n));
}

/** Column block [rows, w] starting at column c0 of a row-major [rows, cols] matrix. */
function block(m: ArrayLike<number>, rows: number, cols: number, c0: number, w: number): Float64Array {
  const out = new Float64Array(rows * w);
  for (let r = 0; r < rows; r++) for (let c = 0; c < w; c++) out[r * w + c] = m[r * cols + c0 + c]!;
  return out;
}

/** BᵀB ([w, w]) when tall or square, BBᵀ ([rows, rows]) when wide: should be gain²·I. */
function gram(b: Float64Array, rows: number, w: number): { g: Float64Array; k: number } {
  const tall = rows >= w;
  const k = tall ? w : rows;
  const g = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      if (tall) for (let r = 0; r < rows; r++) s += b[r * w + i]! * b[r * w + j]!;
      else for (let c = 0; c < w; c++) s += b[i * w + c]! * b[j * w + c]!;
      g[i * k + j] = s;
    }
  return { g, k };
}

const eye = (k: number, scale = 1): Float64Array =>
  Float64Array.from({ length: k * k }, (_, i) => (Math.floor(i / k) === i % k ? scale : 0));

describe("random initializers", () => {
  it("uniform(r): in [−r, r], mean 0, E[x²] = r²/3", () => {
    for (const r of [0.1, 0.05, 0.04]) expectUniform(initMatrix(uniform(r), 200, 50, 50, new Rng(1)), r);
  });

  it("uniform_inv_sqrt_hidden: U(±1/√H) with H the layer's hidden size, not the matrix width", () => {
    expectUniform(initMatrix(uniformInvSqrtHidden(), 100, 4 * 25, 25, new Rng(2)), 1 / Math.sqrt(25));
  });

  it("xavier_uniform: U(±√(6 / (rows + cols)))", () => {
    expectUniform(initMatrix(xavierUniform(), 120, 80, 80, new Rng(3)), Math.sqrt(6 / 200));
  });

  it("normal(σ): mean 0, E[x²] = σ²", () => {
    const a = initMatrix(normal(0.3), 100, 100, 100, new Rng(4));
    const m = moments(a),
      n = a.length,
      s2 = 0.09;
    expect(Math.abs(m.mean)).toBeLessThan((5 * 0.3) / Math.sqrt(n));
    expect(Math.abs(m.meanSq - s2)).toBeLessThan(5 * Math.sqrt((2 * s2 ** 2) / n));
  });

  it("one seed gives the same weights; another seed different ones", () => {
    const a = initMatrix(uniform(0.1), 10, 10, 10, new Rng(5)),
      b = initMatrix(uniform(0.1), 10, 10, 10, new Rng(5));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(initMatrix(uniform(0.1), 10, 10, 10, new Rng(6)))).not.toEqual(Array.from(a));
  });
});

/** QᵀQ or QQᵀ of the whole matrix is gain²·I. */
function expectOrthogonal(m: ArrayLike<number>, rows: number, cols: number, gain: number, tol: number, what: string) {
  const { g, k } = gram(Float64Array.from(m), rows, cols);
  expectClose(g, eye(k, gain * gain), `${what}: gram`, tol * gain * gain, 0);
}

describe("orthogonal: one matrix over all its columns", () => {
  // [rows, cols, hidden, what]
  const shapes: [number, number, number, string][] = [
    [8, 32, 8, "U [H, 4H]: wide, orthonormal rows"],
    [12, 20, 5, "W [I, 4H], I < 4H: wide"],
    [30, 20, 5, "W [I, 4H], I > 4H: tall, orthonormal columns"],
    [6, 6, 6, "square"],
    [6, 7, 4, "width not a multiple of H"],
  ];
  for (const [rows, cols, hidden, what] of shapes)
    for (const gain of [1, 2])
      it(`orthogonal(${gain}), ${what} [${rows}, ${cols}], H = ${hidden}`, () => {
        const m = initMatrix(orthogonal(gain), rows, cols, hidden, new Rng(rows * cols + gain));
        expectOrthogonal(m, rows, cols, gain, 1e-6, `[${rows}, ${cols}]`);
      });

  it("U [H, 4H] is not four orthogonal blocks side by side: a block's own rows are not orthonormal", () => {
    // Four independent orthogonal [H, H] blocks would give QQᵀ = 4I; one orthogonal [H, 4H] gives QQᵀ = I, and a
    // block [H, H] of it has BBᵀ with diagonal ≈ 1/4 (each row's unit norm spread over 4H columns)
    const H = 16;
    const m = initMatrix(orthogonal(1), H, 4 * H, H, new Rng(9));
    const { g } = gram(block(m, H, 4 * H, 0, H), H, H);
    const diag = Array.from({ length: H }, (_, i) => g[i * H + i]!);
    expect(Math.max(...diag)).toBeLessThan(0.75);
  });

  it("more than 128 vectors (blocked Gram–Schmidt, projections on the backend): orthonormal to float32 rounding", async () => {
    await selectBackend("wasm", { threads: 1 });
    for (const [rows, cols] of [
      [300, 1200], // U [H, 4H], H = 300: 300 rows of length 1200
      [700, 1200], // W [I, 4H], I = 700, H = 300
      [900, 200], // tall: 200 columns of length 900 (an output layer [H, V])
    ] as const) {
      const m = initMatrix(orthogonal(1), rows, cols, 300, new Rng(rows));
      expectOrthogonal(m, rows, cols, 1, 1e-5, `[${rows}, ${cols}]`);
    }
  });
});

describe("identity", () => {
  it("identity(s) of any matrix but a recurrent layer's U: one [rows, cols] identity, scale on the diagonal", () => {
    for (const [rows, cols] of [
      [5, 5],
      [3, 10],
      [10, 3],
      [4, 16], // U-shaped, but not marked as a recurrent layer's U
    ] as const) {
      const m = initMatrix(identity(0.7), rows, cols, rows, new Rng(0));
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) expect(m[r * cols + c], `[${r}, ${c}]`).toBe(r === c ? Math.fround(0.7) : 0);
    }
  });

  // [cell, gates, candidate block]: LSTM [i | f | o | g], GRU [r | z | n], RNN one block
  for (const [cell, G, candidate] of [
    ["lstm", 4, 3],
    ["gru", 3, 2],
    ["rnn", 1, 0],
  ] as const)
    it(`U of ${cell} [H, ${G}H]: the identity on block ${candidate} (the candidate), the gate blocks one orthogonal matrix drawn by init`, () => {
      const H = 6,
        s = 0.9;
      const U = initMatrix(identity(s), H, G * H, H, new Rng(3), { candidate, gateInit: orthogonal(1.5) });
      // the candidate block: exactly s·I
      for (let r = 0; r < H; r++)
        for (let c = 0; c < H; c++) expect(U[r * G * H + candidate * H + c]).toBe(r === c ? Math.fround(s) : 0);
      if (G === 1) return;
      // the gate blocks, in their order without the candidate: one [H, (G−1)·H] matrix, rows orthonormal ×1.5, and
      // exactly what the layer's init draws from the same seed
      const gates = new Float32Array(H * (G - 1) * H);
      for (let r = 0, w = (G - 1) * H; r < H; r++)
        for (let k = 0, j = 0; k < G; k++)
          if (k !== candidate) for (let c = 0; c < H; c++, j++) gates[r * w + j] = U[r * G * H + k * H + c]!;
      expectOrthogonal(gates, H, (G - 1) * H, 1.5, 1e-6, "gate blocks");
      expect(Array.from(gates)).toEqual(Array.from(initMatrix(orthogonal(1.5), H, (G - 1) * H, H, new Rng(3))));
    });

  it("the candidate block anywhere: the gate blocks keep their order around it", () => {
    const H = 2,
      G = 3;
    // uniform gate init: distinct values show where each column of the gate matrix went
    const U = initMatrix(identity(1), H, G * H, H, new Rng(4), { candidate: 1, gateInit: uniform(0.5) });
    const gates = initMatrix(uniform(0.5), H, (G - 1) * H, H, new Rng(4)); // [H, 4]
    for (let r = 0; r < H; r++)
      expect(Array.from(U.subarray(r * 6, r * 6 + 6))).toEqual([
        gates[r * 4]!,
        gates[r * 4 + 1]!,
        r === 0 ? 1 : 0,
        r === 1 ? 1 : 0,
        gates[r * 4 + 2]!,
        gates[r * 4 + 3]!,
      ]);
  });
});

describe("RecurrentLayer: where the initializers and the forget-gate bias go", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });
  let uid = 0; // tfjs variable names are global to the engine

  it("W gets init, U gets recurrentInit (Cooijmans et al. 2017, §5.1: orthogonal W, identity U), for each cell", () => {
    const I = 6,
      H = 4;
    for (const [cell, G, candidate] of [
      ["lstm", 4, LSTM_GATES.G],
      ["gru", 3, 2],
      ["rnn", 1, 0],
    ] as const) {
      const l = new RecurrentLayer(new ParameterStore(new Rng(1)), `init${uid++}`, cell, I, H, {
        init: orthogonal(),
        recurrentInit: identity(),
      });
      expect(l.math.candidate).toBe(candidate);
      const U = toF64(l.U),
        W = toF64(l.W);
      expectClose(block(U, H, G * H, candidate * H, H), eye(H), `${cell}: U's candidate block`, 0, 0);
      const gateBlocks = Array.from({ length: G }, (_, k) => k).filter((k) => k !== candidate);
      if (gateBlocks.length) {
        const gates = new Float64Array(H * gateBlocks.length * H);
        gateBlocks.forEach((k, j) => {
          const b = block(U, H, G * H, k * H, H);
          for (let r = 0; r < H; r++)
            for (let c = 0; c < H; c++) gates[r * gateBlocks.length * H + j * H + c] = b[r * H + c]!;
        });
        expectOrthogonal(gates, H, gateBlocks.length * H, 1, 1e-6, `${cell}: U's gate blocks`);
      }
      expectOrthogonal(W, I, G * H, 1, 1e-6, `${cell}: W`);
    }
  });

  it("LSTM: the forget bias fills block F of [i | f | o | g] only; GRU and RNN get none", () => {
    expect(LSTM_GATES).toEqual({ I: 0, F: 1, O: 2, G: 3 });
    const H = 3;
    const lstm = new RecurrentLayer(new ParameterStore(new Rng(2)), `init${uid++}`, "lstm", 2, H, {
      init: uniform(0.1),
      recurrentInit: uniform(0.1),
      forgetBias: 1,
    });
    expect(Array.from(lstm.b.dataSync())).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    const plain = new RecurrentLayer(new ParameterStore(new Rng(2)), `init${uid++}`, "lstm", 2, H, {
      init: uniform(0.1),
      recurrentInit: uniform(0.1),
    });
    expect(Array.from(plain.b.dataSync())).toEqual(new Array(4 * H).fill(0)); // Zaremba et al. 2014: 0 by default
    for (const cell of ["gru", "rnn"] as const) {
      const l = new RecurrentLayer(new ParameterStore(new Rng(2)), `init${uid++}`, cell, 2, H, {
        init: uniform(0.1),
        recurrentInit: uniform(0.1),
        forgetBias: 1,
      });
      expect(Array.from(l.b.dataSync()).every((v) => v === 0)).toBe(true);
      if (l.bh) expect(Array.from(l.bh.dataSync()).every((v) => v === 0)).toBe(true);
    }
  });

  it("LSTM: that bias is the gate on c_{t−1}: with W = U = 0 and forget bias 20, c_T = c_0 (f = σ(20), i·g = 0)", () => {
    const H = 3,
      B = 2,
      T = 6;
    const l = new RecurrentLayer(new ParameterStore(new Rng(3)), `init${uid++}`, "lstm", 2, H, {
      init: uniform(0),
      recurrentInit: uniform(0),
      forgetBias: 20,
    });
    const rng = new Rng(4);
    const c0 = uniformArray(rng, B * H, 1);
    const out = l.forward(tensorOf(uniformArray(rng, T * B * 2, 1), [T, B, 2]) as tf.Tensor3D, {
      h: tf.zeros([B, H]),
      c: tensorOf(c0, [B, H]) as tf.Tensor2D,
    });
    // f = σ(20) = 1 − 2e-9: c_T = c_0 to float32 precision. A bias in any other block would give f = ½: c_T = c_0 / 64.
    expectClose(out.state.c!, c0, "c_T", 1e-6, 0);
  });
});

describe("a spec's `init orthogonal  recurrent_init identity`, compiled, generated and run", () => {
  const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  const SPEC = `experiment init_layout {
  data mnist
  model {
    layers [lstm(4), gru(4), rnn(4, tanh)]
    init orthogonal
    recurrent_init identity
  }
}
`;

  it("builds each layer's U as the identity on its candidate block and one orthogonal matrix of gate blocks", async () => {
    await selectBackend("cpu");
    const files = fsHost(ROOT);
    const host: CompilerHost = {
      resolve: files.resolve,
      readFile: (p) => (p === "init-layout.rnn" ? { ok: true, text: SPEC } : files.readFile(p)),
    };
    const r = compile("init-layout.rnn", host);
    const e = r.document?.experiments[0];
    expect(e, JSON.stringify(r.diagnostics)).toBeDefined();
    const code = await generate(e!, { specPath: "init-layout.rnn" });
    // The generated module, run here against the runtime's sources (what `rnnc/runtime` is in a user's project)
    const dir = mkdtempSync(join(tmpdir(), "rnnc-init-layout-"));
    try {
      const file = join(dir, "model.mts"); // ESM, as the generated module is
      const runtime = pathToFileURL(join(ROOT, "runtime/index.ts")).href;
      writeFileSync(file, code.replace('from "rnnc/runtime"', `from ${JSON.stringify(runtime)}`));
      const mod = (await import(pathToFileURL(file).href)) as {
        experiment: { createModel(s: { classes: number; params: ParameterStore }): Record<string, unknown> };
      };
      const model = mod.experiment.createModel({ classes: 10, params: new ParameterStore(new Rng(0)) });
      const H = 4;
      for (const [name, G, candidate] of [
        ["layer1", 4, LSTM_GATES.G],
        ["layer2", 3, 2],
        ["layer3", 1, 0],
      ] as const) {
        const layer = model[name] as RecurrentLayer;
        const U = toF64(layer.U);
        expectClose(block(U, H, G * H, candidate * H, H), eye(H), `${name}: U's candidate block`, 0, 0);
        const gates = new Float64Array(H * (G - 1) * H);
        for (let r = 0, w = (G - 1) * H; r < H; r++)
          for (let k = 0, j = 0; k < G; k++)
            if (k !== candidate) for (let c = 0; c < H; c++, j++) gates[r * w + j] = U[r * G * H + k * H + c]!;
        if (G > 1) expectOrthogonal(gates, H, (G - 1) * H, 1, 1e-6, `${name}: U's gate blocks`);
        expectOrthogonal(toF64(layer.W), layer.inputSize, G * H, 1, 1e-6, `${name}: W`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
