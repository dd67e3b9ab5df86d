// A recurrent layer's construction: its cell and initializers, then its recurrent sites (recurrent dropout, weight
// drop, zoneout) and normalization, each as a RecurrentLayer option with a comment on what it touches.
import type { CodeBlockWriter } from "ts-morph";
import type { LayerIR } from "../../ir.js";
import { commentText as c, stringLiteral as str } from "../emit-text.js";
import { num, type EmitContext } from "./context.js";
import { emitDeclaredLayerOptions } from "./declared-options.js";

/** `this.layerN = new RecurrentLayer(…)` for layer k (0-based) reading `input` units, with its comments. */
export function emitRecurrentLayer(
  x: EmitContext,
  w: CodeBlockWriter,
  l: LayerIR,
  k: number,
  input: number,
  opts: { activationInComment: boolean },
): void {
  x.use("RecurrentLayer");
  const m = x.e.model;
  const options = [`init: ${x.init(m.init)}`, `recurrentInit: ${x.init(m.recurrentInit)}`];
  if (l.cell === "lstm") options.push(`forgetBias: ${num(m.forgetBias)}`);
  if (l.cell === "rnn") options.push(`activation: ${str(l.activation ?? "tanh")}`);
  const activation = opts.activationInComment && l.cell === "rnn" ? ` ${c(String(l.activation))}` : "";
  w.writeLine(
    `// layer ${k + 1}: ${c(l.cell)}(${l.hidden})${activation} ${x.at(`model.layers.${k}.cell`, `model.layers.${k}.hidden`, "model.init.kind", "model.recurrentInit.kind")}`,
  );
  options.push(...recurrentSites(x, w, l), ...emitDeclaredLayerOptions(x, w));
  w.writeLine(
    `this.layer${k + 1} = new RecurrentLayer(params, "layer${k + 1}", ${str(l.cell)}, ${input}, ${l.hidden}, { ${options.join(", ")} });`,
  );
}

/** The recurrent sites the IR's layer plan gives this layer, as RecurrentLayer options, each with a comment. */
function recurrentSites(x: EmitContext, w: CodeBlockWriter, l: LayerIR): string[] {
  const { recurrentDropout: rd, weightDrop: wd, zoneout: z } = l.sites;
  const opts: string[] = [];
  if (rd) {
    const how =
      rd.mode === "variational"
        ? "one mask on h_{t-1}, shared by every step (Gal & Ghahramani 2016)"
        : "a fresh mask on h_{t-1} at every step (destructive: Zaremba et al. 2014, §3.2)";
    w.writeLine(
      `//   dropout recurrent ${num(rd.p)} ${c(rd.mode)} ${x.at("dropout.recurrent.p", "dropout.recurrent.mode")}: ${how}, where h_{t-1} enters U`,
    );
    opts.push(`recurrentDropout: { p: ${num(rd.p)}, mode: ${str(rd.mode)} }`);
  }
  if (wd) {
    w.writeLine(
      `//   dropout weight ${num(wd.p)} ${x.at("dropout.weight.p")}: DropConnect on U, one mask per window (Merity et al. 2018)`,
    );
    opts.push(`weightDrop: ${num(wd.p)}`);
  }
  if (z) {
    w.writeLine(
      `//   zoneout ${x.at("dropout.zoneout.hidden", "dropout.zoneout.cell")}: units of h${z.cell > 0 ? " and c" : ""} keep their previous value (Krueger et al. 2017); the expectation at evaluation`,
    );
    opts.push(`zoneout: { hidden: ${num(z.hidden)}, cell: ${num(z.cell)} }`);
  }
  const norm = normOption(x, w, l);
  if (norm) opts.push(norm);
  return opts;
}

/** Batch or layer normalization inside the cell, as the `norm` option; null without it. */
function normOption(x: EmitContext, w: CodeBlockWriter, l: LayerIR): string | null {
  const n = x.e.model.norm;
  const plan = l.sites.norm;
  if (!n || !plan) return null;
  const what =
    n.kind === "batch"
      ? `batch norm of ${n.sites.map(c).join(", ")}: statistics ${n.stats === "per_step" ? `per time step, T_max ${plan.slots}` : "shared across time"}, population average at rate ${num(n.momentum)} (Cooijmans et al. 2017, eq. 6–8)`
      : `layer norm of ${n.sites.map(c).join(", ")} over each example's units (Ba et al. 2016, eq. 20–22)`;
  w.writeLine(
    `//   norm ${x.at("model.norm.kind", "model.norm.sites", "model.norm.gamma", "model.norm.stats")}: ${what}; γ starts at ${num(n.gamma)}`,
  );
  return `norm: { kind: ${str(n.kind)}, sites: [${plan.sites.map(str).join(", ")}], gamma: ${num(n.gamma)}, epsilon: ${num(n.epsilon)}, momentum: ${num(n.momentum)}, slots: ${plan.slots} }`;
}
