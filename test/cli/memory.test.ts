// The memory guard (E0311) knows the backend that will train: wasm's 4 GiB heap, the machine's memory for cpu and
// tensorflow, nothing more than --max-memory for webgpu. Its advice is computed, and checked here by compiling the
// advised setting: it fits, and one step past it does not. A smaller batch is never advised when the weights alone
// do not fit. Budgets are written out (not this machine's), so the figures are the same everywhere.
import { describe, expect, it } from "vitest";
import type { MemoryBudget } from "../../compiler/checks/index.js";
import { compile, type CompileOptions } from "../../compiler/compile.js";
import type { Diagnostic } from "../../compiler/diagnostics.js";
import { memoryHost } from "../../compiler/host.js";
import { memoryBudget } from "../../compiler/cli/memory.js";

const GiB = 2 ** 30;
const wasm = (others: MemoryBudget["others"] = []): MemoryBudget => ({
  backend: "wasm",
  limitBytes: 4 * GiB,
  auto: false,
  others,
});
const tensorflow64: MemoryBudget = { backend: "tensorflow", limitBytes: 64 * GiB, auto: false, others: [] };

const spec = (model: string, train = "optimizer adam(lr = 0.001)", data = "batch 20  bptt 35"): string =>
  `experiment m {\n  data ptb { ${data} }\n  model { ${model} }\n  train { epochs 1  ${train} }\n}\n`;

function e0311(text: string, options: CompileOptions): Diagnostic | undefined {
  return compile("m.rnn", memoryHost({ "m.rnn": text }), options).diagnostics.find((d) => d.code === "E0311");
}

describe("the memory guard against the backend's limit", () => {
  it("lstm(7000) with Adam: refused on wasm (its heap), at the layer's size; the widest layer that fits is advised", () => {
    const d = e0311(spec("layers 1 lstm(7000)"), { memory: wasm() })!;
    expect(d.message).toMatch(
      /^this model needs about 8\.1 GiB for its parameters and training state, over the 4\.0 GiB heap of the wasm backend, which wasm32 cannot exceed$/,
    );
    expect(d.span.end - d.span.start).toBe(4); // under "7000"
    expect(d.hint).toContain(
      "the weights with their gradients and optimizer state alone need 7.9 GiB, so a smaller batch cannot help",
    );
    expect(d.hint).not.toMatch(/`batch \d+`/);
    const h = Number(/`lstm\((\d+)\)` instead of lstm\(7000\), the widest that fits/.exec(d.hint!)![1]);
    // The embedding is not written, so it follows the layer: the advice counts it so, and the advice holds.
    expect(e0311(spec(`layers 1 lstm(${h})`), { memory: wasm() })).toBeUndefined();
    expect(e0311(spec(`layers 1 lstm(${h + 1})`), { memory: wasm() })).toBeDefined();
  });

  it("the same model passes where the backend has the memory (tensorflow on a 64 GiB machine, under the 12 GiB default)", () => {
    expect(e0311(spec("layers 1 lstm(7000)"), { memory: tensorflow64 })).toBeUndefined();
  });

  it("another backend that holds it is advised, with what it needs installed", () => {
    const d = e0311(spec("layers 1 lstm(7000)"), {
      memory: wasm([{ backend: "tensorflow", limitBytes: 64 * GiB, installed: false }]),
    })!;
    expect(d.hint).toContain("or --backend tensorflow (64 GiB here; it needs `npm install @tensorflow/tfjs-node`)");
    // One with too little memory is not.
    const small = e0311(spec("layers 1 lstm(7000)"), {
      memory: wasm([{ backend: "tensorflow", limitBytes: 6 * GiB, installed: true }]),
    })!;
    expect(small.hint).not.toContain("--backend");
  });

  it("SGD instead of Adam is advised where it fits: Adam keeps two more copies of the weights", () => {
    const text = spec("embed 650  layers 2 lstm(4200)");
    const d = e0311(text, { memory: wasm() })!;
    expect(d.hint).toMatch(/`optimizer sgd`: Adam keeps 2 more copies of the weights \(\d+(\.\d)? [MG]iB\)/);
    expect(e0311(text.replace("adam(lr = 0.001)", "sgd(lr = 1)"), { memory: wasm() })).toBeUndefined();
  });

  it("activations over the limit, weights well within: the largest batch that fits is advised", () => {
    const text = spec("layers 2 lstm(650)", "optimizer sgd(lr = 1)", "batch 800  bptt 70");
    const d = e0311(text, { memory: wasm() })!;
    expect(d.hint).not.toContain("cannot help");
    const b = Number(/`batch (\d+)` or less/.exec(d.hint!)![1]);
    expect(b).toBeLessThan(800);
    expect(e0311(text.replace("batch 800", `batch ${b}`), { memory: wasm() })).toBeUndefined();
    expect(e0311(text.replace("batch 800", `batch ${b + 1}`), { memory: wasm() })).toBeDefined();
  });

  it("--max-memory, when given, replaces the backend's limit (an estimate can be wrong); the default never does", () => {
    expect(e0311(spec("layers 1 lstm(7000)"), { memory: wasm(), maxMemoryBytes: 16 * GiB })).toBeUndefined();
    const d = e0311(spec("layers 1 lstm(7000)"), { memory: wasm(), maxMemoryBytes: 2 * GiB })!;
    expect(d.message).toContain("over the limit of 2.0 GiB given with --max-memory");
    expect(d.hint).not.toContain("--backend");
  });

  it("webgpu: its memory is unknown before its adapter opens, so the default limit applies", () => {
    const webgpu: MemoryBudget = { backend: "webgpu", limitBytes: null, auto: false, others: [] };
    expect(e0311(spec("layers 1 lstm(7000)"), { memory: webgpu })).toBeUndefined();
    const d = e0311(spec("layers 1 lstm(20000)"), { memory: webgpu })!;
    expect(d.message).toContain("over the default limit of 12 GiB");
    expect(d.hint).toContain("a higher limit with --max-memory");
  });
});

describe("memoryBudget on this machine", () => {
  it("wasm is 4 GiB at most; auto is tensorflow exactly when tfjs-node is installed, else wasm; webgpu has no known limit", () => {
    expect(memoryBudget("wasm").limitBytes).toBeLessThanOrEqual(4 * GiB);
    expect(memoryBudget("webgpu").limitBytes).toBeNull();
    const auto = memoryBudget("auto");
    expect(auto.auto).toBe(true);
    const tf = auto.others.find((o) => o.backend === "tensorflow");
    expect(auto.backend).toBe(tf ? "wasm" : "tensorflow");
    if (tf) expect(tf.installed).toBe(false);
    expect(memoryBudget("cpu").limitBytes).toBe(memoryBudget("tensorflow").limitBytes);
  });
});
