import { Diag } from "../diagnostics.js";
import { rule } from "./rule.js";

/** Tokens must be embedded; only pixel inputs go to the first layer directly. */
export const tokensNeedEmbedding = rule({
  name: "tokensNeedEmbedding",
  codes: ["E0319"],
  run(e, where, report) {
    const at = where.at("model.embed");
    if (at && e.model.embed === null && e.data.level !== "pixel")
      report(Diag.incompatibleSettings(at, { kind: "tokensWithoutEmbedding", dataset: e.data.dataset }));
  },
});
