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
