// Resolution, defaults, origins and sweeps: the IR as codegen and diff will see it.
import type { IRPath } from "../../compiler/schema/index.js";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { memoryHost } from "../../compiler/host.js";
import { IR_VERSION, type ExperimentIR } from "../../compiler/ir.js";
import { STATEMENT_KEYWORDS } from "../../compiler/schema/index.js";

const build = (files: Record<string, string>, main = Object.keys(files)[0]!) => compile(main, memoryHost(files));
const only = (files: Record<string, string>): ExperimentIR => {
  const r = build(files);
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.document!.experiments[0]!;
};

const BASE = `experiment base {
  data ptb { batch 20  bptt 35 }
  model { embed 650  layers 2 lstm(650)  init uniform(0.05) }
  dropout { input 0.5  between 0.5  output 0.5 }
  train { epochs 39  optimizer sgd(lr = 1)  clip 5 }
}`;

describe("lowering", () => {
  it("fills every unset value from the defaults table and marks it so", () => {
    const e = only({ "a.rnn": "experiment a { data ptb  model { layers lstm(10) } }" });
    expect(e.data.batch).toBe(20);
    expect(e.model.embed).toBe(10); // defaults to the first layer's width
    expect(e.train.loss).toBe("mean");
    expect(e.origins["data.batch"]).toBe("default");
    expect(e.origins["model.layers.0.hidden"]).toMatchObject({ file: "a.rnn", line: 1 });
  });

  it("gives every leaf of the IR an origin (but the layers' derived sites, specs/ir.md)", () => {
    const e = only({ "a.rnn": BASE });
    const leaves: string[] = [];
    const walk = (v: unknown, p: string): void => {
      if (/^model\.layers\.\d+\.sites$/.test(p)) return;
      if (v !== null && typeof v === "object" && Object.keys(v).length > 0)
        for (const [k, c] of Object.entries(v)) walk(c, p ? `${p}.${k}` : k);
      else leaves.push(p);
    };
    for (const k of ["data", "task", "model", "dropout", "regularize", "train"] as const) walk(e[k], k);
    expect(Object.keys(e.origins).sort()).toEqual(leaves.sort());
  });

  it("merges overrides block by block, keeping the parent's other keys", () => {
    const e = only({
      "child.rnn": `experiment child extends "dir/../base.rnn" { dropout { between 0.4 }  model { tie } }`,
      "base.rnn": BASE,
    });
    expect(e.dropout.input.p).toBe(0.5);
    expect(e.dropout.between.p).toBe(0.4);
    expect(e.model.tie).toBe(true);
    expect(e.model.layers).toHaveLength(2);
    expect(e.origins["dropout.between.p"]).toMatchObject({ file: "child.rnn" });
    expect(e.origins["dropout.input.p"]).toMatchObject({ file: "base.rnn", line: 4 });
    expect(e.extends).toEqual(["base.rnn:base"]);
  });

  it("extends a sibling experiment in the same file", () => {
    const r = build({ "a.rnn": `${BASE}\nexperiment v extends base { train { epochs 2 } }` });
    expect(r.document!.experiments.map((e) => [e.name, e.train.epochs])).toEqual([
      ["base", 39],
      ["v", 2],
    ]);
  });

  it("expands sweeps into one variant per value, and their product", () => {
    const r = build({ "a.rnn": `${BASE.slice(0, -1)}  regularize { ar sweep(0, 2)  tar sweep(1, 3) } }` });
    const names = r.document!.experiments.map((e) => e.name);
    expect(names).toEqual(["base[ar=0,tar=1]", "base[ar=0,tar=3]", "base[ar=2,tar=1]", "base[ar=2,tar=3]"]);
    expect(r.document!.experiments[3]!.variant).toEqual({ "regularize.ar": 2, "regularize.tar": 3 });
    expect(r.diagnostics.map((d) => d.code)).not.toContain("W0401"); // a swept 0 is a baseline, not a mistake
  });

  it("sweeps inside call arguments", () => {
    const r = build({ "a.rnn": BASE.replace("sgd(lr = 1)", "sgd(lr = sweep(10, 20))") });
    expect(r.document!.experiments.map((e) => e.train.optimizer.lr)).toEqual([10, 20]);
  });

  it("produces versioned, JSON-stable IR", () => {
    const r = build({ "a.rnn": BASE });
    expect(r.document!.irVersion).toBe(IR_VERSION);
    expect(JSON.parse(JSON.stringify(r.document))).toEqual(r.document);
    expect(JSON.stringify(build({ "a.rnn": BASE }).document)).toBe(JSON.stringify(r.document));
  });

  it("infers classification for MNIST and feeds pixels without an embedding", () => {
    const e = only({ "m.rnn": "experiment m { data pmnist { batch 64 }  model { layers lstm(100) } }" });
    expect(e.task).toEqual({ kind: "classify", classes: 10 });
    expect(e.model.embed).toBeNull();
    expect(e.data.bptt).toBe(784);
  });

  it("reads every key of the keyword table (the grammar and the compiler agree)", () => {
    // One statement per key; each must lower without an unknown-key error.
    const sample: Record<string, string> = {
      batch: "batch 4",
      bptt: "bptt 5",
      eval_batch: "eval_batch 2",
      test_batch: "test_batch 1",
      stateful: "stateful false",
      level: "level char",
      vocab: "vocab 12",
      order: "order 2",
      tokens: "tokens 1000",
      seed: "seed 3",
      permutation_seed: "permutation_seed 1",
      random_crop: "random_crop",
      shuffle: "shuffle",
      embed: "embed 8",
      layers: "layers 2 lstm(8)",
      init: "init orthogonal",
      recurrent_init: "recurrent_init identity",
      embed_init: "embed_init uniform(0.1)",
      forget_bias: "forget_bias 1",
      tie: "tie",
      norm: "norm layer",
      initial_state_noise: "initial_state_noise 0.1",
      initial_state: "initial_state learned",
      on: "on [input]",
      gamma: "gamma 0.5",
      stats: "stats per_step",
      momentum: "momentum 0.1",
      epsilon: "epsilon 0.001",
      input: "input 0.1",
      between: "between 0.1",
      output: "output 0.1",
      embedding: "embedding 0.1",
      recurrent: "recurrent 0.1",
      weight: "weight 0.1",
      zoneout: "zoneout 0.1",
      ar: "ar 1",
      tar: "tar 1",
      weight_decay: "weight_decay 0.1",
      epochs: "epochs 1",
      optimizer: "optimizer adam",
      schedule: "schedule plateau(divide = 4)",
      clip: "clip 1",
      loss: "loss sum_steps",
      divergence: "divergence above_uniform(margin = 2, windows = 5)",
    };
    for (const keys of Object.values(STATEMENT_KEYWORDS))
      for (const k of keys)
        expect(
          sample[k] ??
            (k === "data" || k === "task" || k === "model" || k === "dropout" || k === "regularize" || k === "train"
              ? "block"
              : undefined),
          k,
        ).toBeDefined();
    const spec = `experiment k {
      data synthetic { ${["batch", "bptt", "eval_batch", "test_batch", "vocab", "order", "tokens", "seed"].map((k) => sample[k]).join("  ")} }
      task lm
      model { embed 8  layers 2 lstm(8)  init orthogonal  recurrent_init identity  embed_init uniform(0.1)  forget_bias 1  tie  initial_state_noise 0  initial_state learned
              norm batch { on [input]  gamma 0.5  stats per_step  momentum 0.1  epsilon 0.001 } }
      dropout { input 0.1 locked  between 0.1  output 0.1  embedding 0.1  recurrent 0.1  weight 0.1  zoneout 0.1 }
      regularize { ar 1  tar 1  weight_decay 0.1 }
      train { epochs 1  optimizer adam  schedule plateau(divide = 4)  clip 1  loss sum_steps  seed 2  bptt fixed  divergence above_uniform(margin = 2, windows = 5) }
    }`;
    const r = build({ "k.rnn": spec });
    expect(r.diagnostics).toEqual([]);
    const e = r.document!.experiments[0]!;
    expect(e.origins["model.norm.epsilon"]).toMatchObject({ file: "k.rnn" });
    expect(e.origins["dropout.zoneout.hidden"]).toMatchObject({ file: "k.rnn" });
    expect(e.train.divergence).toEqual({ kind: "above_uniform", margin: 2, windows: 5 });
    expect(e.model.initialState).toBe("learned");
  });
});

describe("the divergence rule (specs/language.md, Divergence)", () => {
  const withRule = (rule: string) =>
    build({ "d.rnn": `experiment d { data ptb  model { layers lstm(10) }  train { ${rule} } }` });
  const codes = (rule: string): string[] => withRule(rule).diagnostics.map((d) => d.code);

  it("is on by default, from the defaults table", () => {
    const e = only({ "a.rnn": "experiment a { data ptb  model { layers lstm(10) } }" });
    expect(e.train.divergence).toEqual({ kind: "above_uniform", margin: 1, windows: 20 });
    expect(e.origins["train.divergence.margin"]).toBe("default");
  });

  it("reads above_uniform with positional, named and defaulted arguments, and off", () => {
    const ir = (rule: string) => withRule(rule).document!.experiments[0]!;
    expect(ir("divergence above_uniform(2.5, 40)").train.divergence).toEqual({
      kind: "above_uniform",
      margin: 2.5,
      windows: 40,
    });
    expect(ir("divergence above_uniform(windows = 7)").train.divergence).toEqual({
      kind: "above_uniform",
      margin: 1,
      windows: 7,
    });
    expect(ir("divergence above_uniform").train.divergence).toEqual({ kind: "above_uniform", margin: 1, windows: 20 });
    const off = ir("divergence off");
    expect(off.train.divergence).toEqual({ kind: "off" });
    expect(off.origins["train.divergence.kind"]).toMatchObject({ file: "d.rnn", line: 1 });
  });

  it("checks ranges, names and arguments with located errors", () => {
    expect(codes("divergence above_uniform(margin = 0)")).toEqual(["E0314"]);
    expect(codes("divergence above_uniform(margin = -1)")).toEqual(["E0314"]);
    expect(codes("divergence above_uniform(windows = 0)")).toEqual(["E0302"]);
    expect(codes("divergence above_uniform(windows = 2.5)")).toEqual(["E0302"]);
    expect(codes("divergence above_unifrom")).toEqual(["E0304"]);
    expect(codes("divergence above_uniform(margn = 2)")).toEqual(["E0305"]);
    expect(codes("divergence")).toEqual(["E0317"]);
    expect(codes("divergence off 3")).toEqual(["E0315"]);
    expect(withRule("divergence above_uniform(margin = 0)").diagnostics[0]!.message).toBe(
      "the divergence margin must be > 0, not 0",
    );
  });

  it("warns (W0406) that one window stops healthy runs, and accepts two", () => {
    const r = withRule("divergence above_uniform(margin = 3, windows = 1)");
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([["W0406", "warning"]]);
    expect(r.document!.experiments[0]!.train.divergence).toEqual({ kind: "above_uniform", margin: 3, windows: 1 });
    expect(codes("divergence above_uniform(margin = 3, windows = 2)")).toEqual([]);
  });
});

describe("one meaning, one IR", () => {
  // What codegen's irHash hashes: the IR without origins, source position and extends chain.
  const semantic = (text: string): unknown => {
    const { origins: _o, source: _s, extends: _x, ...rest } = only({ "a.rnn": text });
    return rest;
  };
  const spec = (over: {
    data?: string;
    model?: string;
    dropout?: string;
    regularize?: string;
    train?: string;
  }): string =>
    `experiment a {
      data ${over.data ?? "ptb { batch 20  bptt 16 }"}
      model { ${over.model ?? "layers 2 lstm(32)"} }
      dropout { ${over.dropout ?? ""} }
      regularize { ${over.regularize ?? ""} }
      train { ${over.train ?? ""} }
    }`;
  const BN = (stats: string): string => `layers 2 lstm(32)  norm batch { stats ${stats} }`;

  it.each([
    ["T_max at the BPTT length", { model: BN("per_step") }, { model: BN("per_step(max_steps = 16)") }],
    [
      "T_max past the BPTT length (no step reaches it)",
      { model: BN("per_step") },
      { model: BN("per_step(max_steps = 40)") },
    ],
    [
      "layer norm, which keeps no statistics",
      { model: "layers 2 lstm(32)  norm layer" },
      { model: "layers 2 lstm(32)  norm layer { stats shared  momentum 0.2 }" },
    ],
    ["a mask mode at p = 0", { dropout: "" }, { dropout: "input 0 locked  output 0 locked  recurrent 0 per_step" }],
    [
      "`between` with one layer",
      { model: "layers lstm(32)" },
      { model: "layers lstm(32)", dropout: "between 0.5 locked" },
    ],
    ["the output of a regularizer at 0", { regularize: "" }, { regularize: "ar 0 raw  tar 0 dropped" }],
    [
      "AR and TAR on the dropped or raw output without output dropout",
      { regularize: "ar 2  tar 1" },
      { regularize: "ar 2 raw  tar 1 dropped" },
    ],
    ["a forget bias without LSTM cells", { model: "layers 2 gru(32)" }, { model: "layers 2 gru(32)  forget_bias 1" }],
    [
      "the order of at_epochs",
      { train: "schedule at_epochs(epochs = [3, 8], by = 2)" },
      { train: "schedule at_epochs(epochs = [8, 3], by = 2)" },
    ],
    ["at_epochs of no epoch", { train: "schedule constant" }, { train: "schedule at_epochs(epochs = [], by = 2)" }],
    [
      "spelled-out defaults",
      { train: "optimizer adam  schedule plateau(divide = 4)  bptt variable" },
      {
        train:
          "optimizer adam(lr = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8)  schedule plateau(4, 0)  bptt variable(p = 0.95, std = 5)",
      },
    ],
    ["a text directory written three ways", { data: 'text "corpus"' }, { data: 'text "./corpus/"' }],
    [
      "a classifier's loss, BPTT policy, state and crop, and its embedding's initializer",
      { data: "mnist { batch 16 }", model: "layers lstm(32)" },
      {
        data: "mnist { batch 16  stateful true  random_crop }",
        model: "layers lstm(32)  embed_init xavier",
        train: "loss sum_steps  bptt variable",
      },
    ],
  ])("%s", (_what, a, b) => {
    expect(semantic(spec(b))).toEqual(semantic(spec(a)));
  });

  it.each([
    ["T_max below the BPTT length", { model: BN("per_step") }, { model: BN("per_step(max_steps = 8)") }],
    [
      "T_max with a variable BPTT length",
      { model: BN("per_step(max_steps = 16)"), train: "bptt variable" },
      { model: BN("per_step(max_steps = 40)"), train: "bptt variable" },
    ],
    [
      "a repeated epoch of at_epochs (it divides twice)",
      { train: "schedule at_epochs(epochs = [3], by = 2)" },
      { train: "schedule at_epochs(epochs = [3, 3], by = 2)" },
    ],
    ["a mask mode at p > 0", { dropout: "input 0.5" }, { dropout: "input 0.5 locked" }],
    [
      "AR on the raw or dropped output with output dropout",
      { dropout: "output 0.5", regularize: "ar 2" },
      { dropout: "output 0.5", regularize: "ar 2 raw" },
    ],
    [
      "a decay after the last epoch (`rnnc run --epochs` may add epochs)",
      { train: "epochs 3" },
      { train: "epochs 3  schedule decay(by = 2, after = 5)" },
    ],
  ])("keeps apart what differs: %s", (_what, a, b) => {
    expect(semantic(spec(b))).not.toEqual(semantic(spec(a)));
  });

  it("keeps the order of at_epochs' origins with their epochs, and drops the origin of a value no longer written", () => {
    const e = only({
      "a.rnn": spec({ train: "schedule at_epochs(epochs = [8, 3], by = 2)", dropout: "input 0 locked" }),
    });
    expect(e.train.schedule).toEqual({ kind: "at_epochs", epochs: [3, 8], by: 2 });
    const col = (path: IRPath): number | undefined =>
      e.origins[path] === "default" ? undefined : (e.origins[path] as { col: number }).col;
    expect(col("train.schedule.epochs.0")! > col("train.schedule.epochs.1")!).toBe(true); // 3 was written after 8
    expect(e.dropout.input).toEqual({ p: 0, mask: "per_step" });
    expect(e.origins["dropout.input.mask"]).toBe("default");
  });

  it("still warns about what was written: `between` with one layer", () => {
    const r = build({ "a.rnn": spec({ model: "layers lstm(32)", dropout: "between 0.5" }) });
    expect(r.diagnostics.map((d) => d.code)).toContain("W0400");
    expect(r.document!.experiments[0]!.dropout.between.p).toBe(0);
  });
});

describe("integers a double cannot hold exactly", () => {
  it.each([
    ["train { epochs 99999999999999999999 }", /the number of epochs must be an integer from 1 to 9007199254740991/],
    ["train { seed 1e300 }", /the seed must be an integer from 0 to 9007199254740991/],
    ["model { layers lstm(9007199254740992) }", /the hidden size must be an integer from 1 to 9007199254740991/],
  ])("%s is out of range (E0314), not a value rounded to a neighbour", (block, message) => {
    const r = build({
      "a.rnn": `experiment a { data ptb  ${block.startsWith("model") ? block : `model { layers lstm(10) }  ${block}`} }`,
    });
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    expect(errors.map((d) => d.code)).toEqual(["E0314"]);
    expect(errors[0]!.message).toMatch(message);
  });

  it("2^53 − 1 itself is still an integer", () => {
    expect(
      only({ "a.rnn": "experiment a { data ptb  model { layers lstm(10) }  train { seed 9007199254740991 } }" }).train
        .seed,
    ).toBe(9007199254740991);
  });
});
