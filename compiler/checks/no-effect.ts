import { Diag } from "../diagnostics.js";
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
