import { Diag } from "../diagnostics.js";
import { rule } from "./rule.js";

/** Weight tying shares one matrix, so the last layer must be as wide as the embedding (Press & Wolf 2017). */
export const tieSizes = rule({
  name: "tieSizes",
  codes: ["E0319", "E0307"],
  run(e, where, report) {
    if (!e.model.tie) return;
    const at = where.at("model.tie") ?? where.experiment;
    if (e.task.kind !== "lm") return report(Diag.incompatibleSettings(at, { kind: "tieWithoutLanguageModel" }));
    const last = e.model.layers[e.model.layers.length - 1]!.hidden;
    if (e.model.embed !== null && e.model.embed !== last)
      report(Diag.tieSizeMismatch(at, e.model.embed, last, where.at("model.embed")));
  },
});
