// Checks as a phase (compiler/checks/): every rule is named, declares the codes it may report, and runs in
// compile(), the support rule (E0500) included; messages come from typed reasons in the catalog.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { RULES } from "../../compiler/checks/index.js";
import { rule } from "../../compiler/checks/rule.js";
import { Diag, type DiagCode } from "../../compiler/diagnostics.js";
import { compile } from "../../compiler/compile.js";
import { memoryHost } from "../../compiler/host.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const build = (spec: string) => compile("c.rnn", memoryHost({ "c.rnn": spec }));
const messages = (spec: string): string[] => build(spec).diagnostics.map((d) => `${d.code} ${d.message}`);

describe("the rules", () => {
  it("have distinct names, and every code a rule declares is in the catalog with a golden case", () => {
    const names = RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    const catalog = readFileSync(join(ROOT, "compiler/diagnostics.ts"), "utf8");
    const cases = readdirSync(join(ROOT, "test/compiler/diagnostics")).filter((f) => f.endsWith(".rnn"));
    for (const r of RULES) {
      expect(r.codes.length, r.name).toBeGreaterThan(0);
      for (const code of r.codes) {
        // \s*: prettier puts a long call's arguments on lines of their own (make(\n  "E0103", …)).
        expect(catalog, `${r.name}: ${code}`).toMatch(new RegExp(`make\\(\\s*"${code}"`));
        expect(
          cases.some((f) => f.startsWith(`${code}-`)),
          `${r.name}: a golden case for ${code}`,
        ).toBe(true);
      }
    }
  });

  it("report only the codes they declare, and a code is one of the catalog's (checked by `npm run typecheck`)", () => {
    const probe = rule({
      name: "probe",
      codes: ["E0319"],
      run(_e, where, report) {
        // @ts-expect-error W0400 is not among the codes this rule declares
        report(Diag.betweenWithOneLayer(where.experiment));
      },
    });
    // @ts-expect-error not a code of the catalog
    const unknown: DiagCode = "E9999";
    expect([probe.codes, unknown]).toEqual([["E0319"], "E9999"]);
  });

  it("include the support check, so compile() (and with it `rnnc check`) refuses what cannot be built yet", () => {
    expect(RULES.map((r) => r.name)).toContain("support");
    const spec = "experiment a { data ptb  model { layers lstm(10)  initial_state_noise 0.1 } }";
    const r = build(spec);
    expect(r.document).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0500"]);
    // Located at the value that asks for it.
    expect(r.diagnostics[0]!.span).toEqual({ start: spec.indexOf("0.1"), end: spec.indexOf("0.1") + 3 });
    // A classifier may have noise on h_0 (Cooijmans et al. 2017 on MNIST): nothing refused.
    expect(
      build("experiment m { data mnist  model { layers lstm(10)  initial_state_noise 0.1 } }").diagnostics,
    ).toEqual([]);
  });

  it("run on every sweep point, each reporting at the setting that must change", () => {
    const r = build("experiment s { data ptb  model { layers gru(10) }  dropout { zoneout cell sweep(0, 0.5) } }");
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      "E0308 zoneout of `cell` cannot apply to a GRU cell: a GRU has no cell state c_t",
    ]);
  });
});

describe("typed reasons (the wording lives in compiler/diagnostics.ts)", () => {
  it("name a setting as the spec writes it", () => {
    expect(messages("experiment m { data mnist  model { layers lstm(10)  embed_init uniform(0.1) } }")).toEqual([
      "W0403 'embed_init' has no effect: this model has no embedding",
    ]);
    expect(messages("experiment m { data mnist  model { layers lstm(10) }  dropout { embedding 0.1 } }")).toEqual([
      "W0403 'embedding' has no effect: this model has no embedding",
    ]);
    expect(messages("experiment r { data ptb  model { layers rnn(10)  forget_bias 1 } }")).toEqual([
      "W0403 'forget_bias' has no effect: a tanh RNN has no forget gate",
    ]);
  });

  it("word each reason of a rule", () => {
    expect(messages("experiment t { data mnist  model { embed none  layers lstm(10)  tie } }")).toContain(
      "E0319 `tie`: only a language model has an embedding to share with its softmax",
    );
    expect(messages("experiment t { data ptb  task classify  model { layers lstm(10) } }")).toEqual([
      "E0310 task 'classify' does not fit data set 'ptb': ptb has no labels to classify",
    ]);
    expect(messages("experiment t { data mnist  task lm  model { layers lstm(10) } }")).toContain(
      "E0310 task 'lm' does not fit data set 'mnist': mnist is a labelled classification set",
    );
    expect(messages("experiment n { data ptb  model { layers gru(10)  norm layer { on [input, cell] } } }")).toEqual([
      "E0308 normalization of `cell` cannot apply to a GRU cell: a GRU has no cell state c_t; write `on [input, recurrent]`",
    ]);
    expect(messages("experiment s { data ptb { batch sweep(sweep(1, 2)) }  model { layers lstm(10) } }")).toEqual([
      "E0312 invalid sweep: a sweep cannot contain another sweep",
    ]);
    expect(
      messages("experiment v { data ptb  model { layers lstm(10) }  train { divergence above_uniform(margin = 0) } }"),
    ).toEqual([expect.stringMatching(/^E0314 .* must be > 0, not 0$/)]);
    expect(messages("experiment v { data ptb  model { layers 65 lstm(10) } }")).toEqual([
      "E0314 the number of layers must be at most 64, not 65",
    ]);
  });
});

describe("a classifier and the settings it cannot use", () => {
  const mnist = (train: string, extra = "") =>
    `experiment c {\n  data mnist { batch 4 }\n  model { layers 1 lstm(8) }\n  ${extra}\n  train { ${train} }\n}\n`;

  it("every optimizer and schedule passes: the one training driver runs them for both tasks", () => {
    for (const optimizer of ["sgd(lr = 1)", "adam", "rmsprop", "ntasgd(lr = 1)"])
      for (const schedule of [
        "constant",
        "decay(by = 2, after = 1)",
        "plateau(divide = 4)",
        "at_epochs(epochs = [2], by = 10)",
      ])
        expect(
          build(mnist(`optimizer ${optimizer}  schedule ${schedule}`)).diagnostics,
          `${optimizer} ${schedule}`,
        ).toEqual([]);
  });

  it("warns that a BPTT policy or a per-step loss does nothing (W0403), at the value", () => {
    expect(messages(mnist("bptt variable  loss sum_steps"))).toEqual([
      "W0403 'bptt' has no effect: mnist sequences are always 784 steps long",
      "W0403 'loss' has no effect: a classifier's loss is the cross-entropy of each sequence's one label, averaged over the batch",
    ]);
  });

  it("refuses AR and TAR, which its model class has no penalty for (E0500), at the value", () => {
    const r = build(mnist("epochs 1", "regularize { ar 2  tar 1 }"));
    expect(r.document).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.code, d.span.start])).toEqual([
      ["E0500", mnist("epochs 1", "regularize { ar 2  tar 1 }").indexOf("2  tar")],
      ["E0500", mnist("epochs 1", "regularize { ar 2  tar 1 }").indexOf("1 }\n  train")],
    ]);
  });
});

describe("settings written where they cannot matter (W0403), decided by rules, not by lowering", () => {
  /** Each diagnostic as its code, message and the text its span covers. */
  const located = (spec: string): string[] =>
    build(spec).diagnostics.map((d) => `${d.code} ${d.message} @ ${spec.slice(d.span.start, d.span.end)}`);

  it("a data setting of another data set is located at its whole statement, and its value is not read", () => {
    // `vocab 0` would be out of range on a synthetic corpus: on ptb it is not read, only located.
    const spec =
      "experiment p { data ptb { vocab 0  order 3  tokens 10  seed 1  permutation_seed 2  level char }  model { layers lstm(10) } }";
    expect(located(spec)).toEqual([
      "W0403 'vocab' has no effect: it describes the synthetic corpus @ vocab 0",
      "W0403 'order' has no effect: it describes the synthetic corpus @ order 3",
      "W0403 'tokens' has no effect: it describes the synthetic corpus @ tokens 10",
      "W0403 'seed' has no effect: it seeds the synthetic corpus; the training seed is `train { seed N }` @ seed 1",
      "W0403 'permutation_seed' has no effect: only pmnist permutes pixels @ permutation_seed 2",
      "W0403 'level' has no effect: ptb has a fixed level @ level char",
    ]);
    expect(build(spec).document!.experiments[0]!.data).toMatchObject({ vocab: 10_000, level: "word", synthetic: null });
    expect(
      located("experiment m { data mnist { stateful  random_crop  shuffle  bptt 100 }  model { layers lstm(10) } }"),
    ).toEqual([
      "W0403 'stateful' has no effect: classification sequences are independent @ stateful",
      "W0403 'random_crop' has no effect: it applies to language-model streams @ random_crop",
      "W0403 'shuffle' has no effect: it applies to language-model streams @ shuffle",
      "W0403 'bptt' has no effect: mnist sequences are always 784 steps long @ bptt 100",
    ]);
  });

  it("shuffled examples carry no state and have one length (E0319 at `shuffle`, with where the other was set)", () => {
    const spec = (data: string, train = "") =>
      `experiment c { data ptb_char { ${data} }  model { layers lstm(10) }  train { ${train} } }`;
    expect(build(spec("stateful false  random_crop  shuffle  bptt 100")).diagnostics).toEqual([]);
    const stateful = build(spec("shuffle  bptt 100")).diagnostics;
    expect(stateful.map((d) => `${d.code} ${d.message}`)).toEqual([
      "E0319 `shuffle`: shuffled examples are independent, so no state is carried from one to the next (write `stateful false`)",
    ]);
    expect(located(spec("stateful true  shuffle"))).toEqual([
      "E0319 `shuffle`: shuffled examples are independent, so no state is carried from one to the next (write `stateful false`) @ shuffle",
    ]);
    expect(located(spec("stateful false  shuffle", "bptt variable(p = 0.95, std = 5)"))).toEqual([
      "E0319 `shuffle`: examples are cut once per epoch at the fixed `bptt` length, which a variable BPTT length redraws every window @ shuffle",
    ]);
  });

  it("the same settings on the data sets they describe are read, and warn of nothing", () => {
    for (const spec of [
      "experiment s { data synthetic { vocab 20  order 2  tokens 1000  seed 3 }  model { layers lstm(10) } }",
      "experiment x { data pmnist { permutation_seed 2 }  model { layers lstm(10) } }",
      'experiment t { data text "corpus" { level char  stateful  random_crop  bptt 50 }  model { layers lstm(10) } }',
    ])
      expect(build(spec).diagnostics, spec).toEqual([]);
    // Read where they apply: out of range on the synthetic corpus is an error, not a note.
    expect(
      build("experiment s { data synthetic { vocab 0 }  model { layers lstm(10) } }").diagnostics.map((d) => d.code),
    ).toEqual(["E0314"]);
  });

  it("layer norm's statistics settings are warned at their statements; batch norm's are not", () => {
    const norm = (kind: string) =>
      `experiment n { data ptb  model { layers lstm(10)  norm ${kind} { stats per_step  momentum 0.2 } } }`;
    expect(located(norm("layer"))).toEqual([
      "W0403 'stats' has no effect: layer norm keeps no statistics @ stats per_step",
      "W0403 'momentum' has no effect: layer norm keeps no statistics @ momentum 0.2",
    ]);
    expect(build(norm("batch")).diagnostics).toEqual([]);
  });

  it("the rules decide from the IR and where the statements were written, nothing else", () => {
    const e = build("experiment p { data ptb  model { layers lstm(10)  norm layer } }").document!.experiments[0]!;
    const at = { file: "elsewhere.rnn", span: { start: 3, end: 9 } };
    const where = { at: () => undefined, written: () => at, swept: () => false, experiment: at };
    const found: string[] = [];
    for (const name of ["noEffectOfDataSettings", "noEffectOfNormStatistics"]) {
      const r = RULES.find((x) => x.name === name)!;
      r.run(e, where, (d) => found.push(`${d.code} ${d.message} @ ${d.file}:${d.span.start}`), { maxMemoryBytes: 1 });
    }
    // Every data setting that does not apply to ptb (bptt, stateful, random_crop do), then stats and momentum.
    expect(found.map((f) => f.split(" ")[1])).toEqual([
      "'level'",
      "'vocab'",
      "'order'",
      "'tokens'",
      "'seed'",
      "'permutation_seed'",
      "'stats'",
      "'momentum'",
    ]);
    expect(found.every((f) => f.startsWith("W0403 ") && f.endsWith("@ elsewhere.rnn:3"))).toBe(true);
  });
});

describe("a regularizer at 0 (W0401) and per-step recurrent dropout (W0402), decided by rules", () => {
  const located = (spec: string): string[] =>
    build(spec).diagnostics.map((d) => `${d.code} ${d.message} @ ${spec.slice(d.span.start, d.span.end)}`);
  const lm = (blocks: string) => `experiment r { data ptb  model { layers 2 lstm(10) }  ${blocks} }`;

  it("warns of each regularizer written at 0, at its statement", () => {
    expect(located(lm("regularize { ar 0  tar 0 raw  weight_decay 0 }"))).toEqual([
      "W0401 'ar' is 0, so it has no effect @ ar 0",
      "W0401 'tar' is 0, so it has no effect @ tar 0 raw",
      "W0401 'weight_decay' is 0, so it has no effect @ weight_decay 0",
    ]);
    expect(located(lm("regularize { ar 1  tar 2  weight_decay 0.000001 }"))).toEqual([]);
  });

  it("a swept 0 is a baseline; a sweep of one regularizer does not silence another written at 0", () => {
    const r = build(lm("regularize { ar sweep(0, 2)  tar 0  weight_decay sweep(0, 0.000001) }"));
    expect(r.document!.experiments).toHaveLength(4);
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual(["W0401 'tar' is 0, so it has no effect"]);
  });

  it("a refused value is reported as what it is, not also as a 0", () => {
    expect(build(lm("regularize { ar -1 }")).diagnostics.map((d) => d.code)).toEqual(["E0314"]);
  });

  it("warns of a fresh recurrent mask at every step only where something is dropped, at its statement", () => {
    expect(located(lm("dropout { recurrent 0.25 per_step }"))).toEqual([
      expect.stringMatching(/^W0402 a fresh dropout mask on h_\{t-1\} at every step .* @ recurrent 0.25 per_step$/),
    ]);
    expect(located(lm("dropout { recurrent 0 per_step }"))).toEqual([]);
    expect(located(lm("dropout { recurrent 0.25 }"))).toEqual([]);
  });
});
