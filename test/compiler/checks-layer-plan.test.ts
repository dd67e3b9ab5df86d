// The per-layer plan (compiler/layer-plan.ts): each layer of the IR says which dropout, zoneout and normalization
// sites it really has, so that code generation decides nothing about the model.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fsHost } from "../../compiler/cli/fs-host.js";
import { generate } from "../../compiler/codegen/index.js";
import { compile } from "../../compiler/compile.js";
import { memoryHost } from "../../compiler/host.js";
import { IR_VERSION, type ExperimentIR, type LayerSitesIR } from "../../compiler/ir.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const build = (spec: string) => compile("p.rnn", memoryHost({ "p.rnn": spec }));
const ir = (spec: string): ExperimentIR => {
  const r = build(spec);
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.document!.experiments[0]!;
};
const sites = (spec: string): LayerSitesIR[] => ir(spec).model.layers.map((l) => l.sites);
const norm = (model: string, data = "data ptb_char { batch 8  bptt 35 }", train = "") =>
  sites(`experiment n { ${data}  model { ${model} }  train { epochs 1 ${train} } }`).map((s) => s.norm);

describe("normalization sites and slots", () => {
  it("give an LSTM the cell site, with one slot per step up to the BPTT length", () => {
    expect(IR_VERSION).toBe(3);
    expect(norm("layers 2 lstm(16)  norm batch { on [input, recurrent, cell] }")).toEqual([
      { sites: ["input", "recurrent", "cell"], slots: 35 },
      { sites: ["input", "recurrent", "cell"], slots: 35 },
    ]);
  });

  it("take T_max from max_steps, the BPTT length when it is at least as long (its canonical form), 1 when shared or layer norm", () => {
    expect(norm("layers lstm(16)  norm batch { stats per_step(max_steps = 20) }")[0]!.slots).toBe(20);
    expect(norm("layers lstm(16)  norm batch { stats per_step(max_steps = 50) }")[0]!.slots).toBe(35);
    expect(
      norm(
        "layers lstm(16)  norm batch { stats per_step(max_steps = 50) }",
        "data ptb_char { batch 8  bptt 35 }",
        "bptt variable(p = 0.95, std = 5)",
      )[0]!.slots,
    ).toBe(50);
    expect(norm("layers lstm(16)  norm batch { stats shared }")[0]!.slots).toBe(1);
    expect(norm("layers lstm(16)  norm layer")[0]!.slots).toBe(1);
    expect(norm("layers lstm(16)")).toEqual([null]);
  });

  it("are refused with `cell` on a GRU (E0308), and a GRU normalizes the sites it has", () => {
    const r = build(
      "experiment g { data ptb_char { batch 8 }  model { layers gru(16)  norm layer { on [input, recurrent, cell] } } }",
    );
    expect(r.document).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0308"]);
    expect(norm("layers gru(16)  norm layer { on [input, recurrent] }")).toEqual([
      { sites: ["input", "recurrent"], slots: 1 },
    ]);
  });
});

describe("dropout and zoneout sites", () => {
  const dropout = (layers: string, d: string) =>
    sites(`experiment d { data ptb  model { layers ${layers} }  dropout { ${d} } }`);

  it("give each vertical mask to one layer: input before the first, between before the others, output after the last", () => {
    const s = dropout("3 lstm(16)", "input 0.1 locked  between 0.2  output 0.3 locked");
    expect(s.map((l) => [l.dropoutBefore, l.dropoutAfter])).toEqual([
      [{ site: "input", p: 0.1, mask: "locked" }, null],
      [{ site: "between", p: 0.2, mask: "per_step" }, null],
      [
        { site: "between", p: 0.2, mask: "per_step" },
        { site: "output", p: 0.3, mask: "locked" },
      ],
    ]);
    // One layer: `between` drops nothing (W0400), and a site at 0 is no site.
    const one = dropout("lstm(16)", "between 0.5  output 0.2");
    expect(one.map((l) => [l.dropoutBefore, l.dropoutAfter])).toEqual([
      [null, { site: "output", p: 0.2, mask: "per_step" }],
    ]);
  });

  it("put recurrent dropout, DropConnect and zoneout of h on every layer, zoneout of c only on an LSTM", () => {
    const s = dropout("2 lstm(16)", "recurrent 0.25 variational  weight 0.5  zoneout cell 0.5 hidden 0.05");
    for (const l of s) {
      expect(l.recurrentDropout).toEqual({ p: 0.25, mode: "variational" });
      expect(l.weightDrop).toEqual({ p: 0.5 });
      expect(l.zoneout).toEqual({ hidden: 0.05, cell: 0.5 });
    }
    expect(dropout("gru(16)", "zoneout hidden 0.1")[0]!.zoneout).toEqual({ hidden: 0.1, cell: 0 });
    expect(dropout("lstm(16)", "input 0.1")[0]).toMatchObject({
      recurrentDropout: null,
      weightDrop: null,
      zoneout: null,
      norm: null,
    });
  });

  it("are derived, so they have no origins of their own", () => {
    const e = ir("experiment o { data ptb  model { layers 2 lstm(16) }  dropout { input 0.5 } }");
    expect(Object.keys(e.origins).filter((k) => k.includes(".sites"))).toEqual([]);
    expect(e.origins["model.layers.1.hidden"]).toMatchObject({ file: "p.rnn" });
  });
});

describe("the plan says what code generation emits today", () => {
  /** The options of layer k's RecurrentLayer in generated code, on one line. */
  const layerOptions = (code: string, k: number): string => {
    const start = code.indexOf(`new RecurrentLayer(params, "layer${k + 1}"`);
    return code.slice(start, code.indexOf("});", start)).replace(/\s+/g, " ");
  };
  const numberAfter = (text: string, re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };

  it.each([
    "examples/cooijmans-2017/mnist-bnlstm.rnn",
    "examples/cooijmans-2017/ptb-char-bnlstm.rnn",
    "examples/methods/layer-norm.rnn",
    "examples/methods/zoneout.rnn",
    "examples/methods/variational.rnn",
    "examples/methods/weight-drop.rnn",
    "examples/merity-2017/table6-gru.rnn",
  ])("%s", async (file) => {
    const r = compile(file, fsHost(ROOT));
    const e = r.document!.experiments[0]!;
    const code = await generate(e, { specPath: file });
    const L = e.model.layers.length;
    e.model.layers.forEach((layer, k) => {
      const s = layer.sites;
      const opts = layerOptions(code, k);
      expect(numberAfter(opts, /slots: (\d+)/), `layer ${k + 1} slots`).toBe(s.norm?.slots);
      expect(
        /sites: \[([^\]]*)\]/.exec(opts)?.[1]?.replace(/[" ]/g, "").split(","),
        `layer ${k + 1} norm sites`,
      ).toEqual(s.norm?.sites);
      expect(numberAfter(opts, /zoneout: \{ hidden: ([^,]+),/), `layer ${k + 1} zoneout of h`).toBe(s.zoneout?.hidden);
      expect(numberAfter(opts, /zoneout: \{ hidden: [^,]+, cell: ([^ ,}]+)/), `layer ${k + 1} zoneout of c`).toBe(
        s.zoneout?.cell,
      );
      expect(numberAfter(opts, /recurrentDropout: \{ p: ([^,]+),/), `layer ${k + 1} recurrent dropout`).toBe(
        s.recurrentDropout?.p,
      );
      expect(numberAfter(opts, /weightDrop: ([^ ,}]+)/), `layer ${k + 1} DropConnect`).toBe(s.weightDrop?.p);
      const from = k === 0 ? "(?:embedded|pixels)" : `l${k}\\.y`;
      expect(numberAfter(code, new RegExp(`ctx\\.dropout\\(${from}, ([^,]+),`)), `layer ${k + 1} dropout before`).toBe(
        s.dropoutBefore?.p,
      );
      if (k === L - 1)
        expect(
          numberAfter(code, new RegExp(`const hidden = ctx\\.dropout\\(l${L}\\.y, ([^,]+),`)),
          "dropout after the last layer",
        ).toBe(s.dropoutAfter?.p);
    });
  });
});
