// Every decision about the model lives in the IR: which dropout, zoneout and normalization sites each layer really
// has, decided here once from the experiment's settings and its cells, so that code generation reads them and
// decides nothing. Called at the end of lowering (lower.ts), on the experiment in its canonical form.
import type * as ir from "./ir.js";

/** An experiment whose layers are as declared, before their sites are decided. */
export type UnplannedExperiment = Omit<ir.ExperimentIR, "model"> & {
  readonly model: Omit<ir.ModelIR, "layers"> & { readonly layers: readonly ir.LayerSpecIR[] };
};

/** The experiment with each layer's sites; sites it had already are decided again from its settings. */
export function planLayers(e: UnplannedExperiment): ir.ExperimentIR {
  const L = e.model.layers.length;
  const layers = e.model.layers.map(({ cell, hidden, activation }, k): ir.LayerIR => ({
    cell,
    hidden,
    activation,
    sites: layerSites(e, cell, k, L),
  }));
  return { ...e, model: { ...e.model, layers } };
}

function layerSites(e: UnplannedExperiment, cell: ir.CellKind, k: number, L: number): ir.LayerSitesIR {
  const d = e.dropout;
  const lstm = cell === "lstm"; // the only cell with a cell state c_t
  const before = k === 0 ? "input" : "between";
  const zoneCell = lstm ? d.zoneout.cell : 0;
  const n = e.model.norm;
  return {
    dropoutBefore: d[before].p > 0 ? { site: before, p: d[before].p, mask: d[before].mask } : null,
    dropoutAfter: k === L - 1 && d.output.p > 0 ? { site: "output", p: d.output.p, mask: d.output.mask } : null,
    recurrentDropout: d.recurrent.p > 0 ? { p: d.recurrent.p, mode: d.recurrent.mode } : null,
    weightDrop: d.weight.p > 0 ? { p: d.weight.p } : null,
    zoneout: d.zoneout.hidden > 0 || zoneCell > 0 ? { hidden: d.zoneout.hidden, cell: zoneCell } : null,
    norm: n ? { sites: n.sites.filter((s) => s !== "cell" || lstm), slots: normSlots(n, e.data.bptt) } : null,
  };
}

/**
 * Statistics slots of a normalization: layer norm keeps none (1, unused); batch norm shared across time keeps one
 * set; per step, one per time step up to T_max, which is `maxSteps`, or the BPTT length when null (steps beyond
 * T_max reuse its statistics; Cooijmans et al. 2017 §4).
 */
export function normSlots(n: ir.NormIR, bptt: number): number {
  return n.kind === "layer" || n.stats === "shared" ? 1 : (n.maxSteps ?? bptt);
}
