import { DATASET_FACTS } from "../defaults.js";
import { Diag, type NoEffectReason } from "../diagnostics.js";
import type { DataIR } from "../ir.js";
import { rule } from "./rule.js";

/** Settings that cannot matter for this model, written anyway. */
export const noEffect = rule({
  name: "noEffect",
  codes: ["W0400", "W0403"],
  run(e, where, report) {
    const between = where.at("dropout.between.p");
    if (between && e.model.layers.length === 1 && e.dropout.between.p > 0) report(Diag.betweenWithOneLayer(between));
    if (e.model.embed === null) {
      // Named as the spec writes them: `dropout { embedding P }`, `model { embed_init … }`.
      for (const [path, key] of [
        ["dropout.embedding.p", "embedding"],
        ["model.embedInit.kind", "embed_init"],
      ] as const) {
        const at = where.at(path);
        if (at) report(Diag.noEffect(at, key, { kind: "noEmbedding" }));
      }
    }
    if (e.task.kind === "classify") {
      // A classifier reads whole sequences of a fixed length, with one label each: no BPTT window, no per-step loss.
      const bptt = where.at("train.bptt.kind");
      if (bptt)
        report(Diag.noEffect(bptt, "bptt", { kind: "fixedLength", dataset: e.data.dataset, length: e.data.bptt }));
      const loss = where.at("train.loss");
      if (loss) report(Diag.noEffect(loss, "loss", { kind: "classifierLoss" }));
    }
    const embedAt = where.at("model.embed");
    if (embedAt && e.data.level === "pixel") report(Diag.noEffect(embedAt, "embed", { kind: "pixelInputs" }));
  },
});

/**
 * Why a `data` statement cannot matter for this data set, or null where it can. Lowering reads none of these values
 * where they do not apply (a synthetic corpus's `vocab` on PTB is no range error), so the rule locates the statement.
 */
const DATA_SETTINGS: Readonly<Record<string, (d: DataIR) => NoEffectReason | null>> = {
  bptt: (d) => {
    const length = DATASET_FACTS[d.dataset].length;
    return length === null ? null : { kind: "fixedLength", dataset: d.dataset, length };
  },
  stateful: (d) => (DATASET_FACTS[d.dataset].task === "lm" ? null : { kind: "independentSequences" }),
  random_crop: (d) => (DATASET_FACTS[d.dataset].task === "lm" ? null : { kind: "languageModelStreams" }),
  shuffle: (d) => (DATASET_FACTS[d.dataset].task === "lm" ? null : { kind: "languageModelStreams" }),
  level: (d) => (d.dataset === "text" ? null : { kind: "fixedLevel", dataset: d.dataset }),
  vocab: (d) => (d.dataset === "synthetic" ? null : { kind: "syntheticCorpus" }),
  order: (d) => (d.dataset === "synthetic" ? null : { kind: "syntheticCorpus" }),
  tokens: (d) => (d.dataset === "synthetic" ? null : { kind: "syntheticCorpus" }),
  seed: (d) => (d.dataset === "synthetic" ? null : { kind: "syntheticSeed" }),
  permutation_seed: (d) => (d.dataset === "pmnist" ? null : { kind: "pmnistOnly" }),
};

/** A `data` setting written for another data set: the whole statement is reported. */
export const noEffectOfDataSettings = rule({
  name: "noEffectOfDataSettings",
  codes: ["W0403"],
  run(e, where, report) {
    for (const [key, why] of Object.entries(DATA_SETTINGS)) {
      const at = where.written("data", key);
      const reason = at && why(e.data);
      if (at && reason) report(Diag.noEffect(at, key, reason));
    }
  },
});

/** Layer norm normalizes each example over its own units (Ba et al. 2016, §3): it keeps no running statistics. */
export const noEffectOfNormStatistics = rule({
  name: "noEffectOfNormStatistics",
  codes: ["W0403"],
  run(e, where, report) {
    if (e.model.norm?.kind !== "layer") return;
    for (const key of ["stats", "momentum"]) {
      const at = where.written("norm", key);
      if (at) report(Diag.noEffect(at, key, { kind: "layerNormStatistics" }));
    }
  },
});

/**
 * A regularizer written at 0 does nothing. A swept 0 is a baseline, not a mistake; a value that was refused (reported)
 * or left out is no 0 that was written.
 */
export const regularizerAtZero = rule({
  name: "regularizerAtZero",
  codes: ["W0401"],
  run(e, where, report) {
    const { ar, tar, weightDecay } = e.regularize;
    for (const [key, value, path] of [
      ["ar", ar.alpha, "regularize.ar.alpha"],
      ["tar", tar.beta, "regularize.tar.beta"],
      ["weight_decay", weightDecay, "regularize.weightDecay"],
    ] as const) {
      const at = where.written("regularize", key);
      if (at && value === 0 && where.at(path) && !where.swept(path)) report(Diag.regularizerAtZero(at, key));
    }
  },
});
