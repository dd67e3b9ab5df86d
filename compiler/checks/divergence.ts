import { Diag } from "../diagnostics.js";
import { rule } from "./rule.js";

/**
 * Healthy runs have single windows far above ln V early on (specs/language.md, "Divergence"): a rule that stops at
 * the first such window would stop them.
 */
export const divergenceOnOneWindow = rule({
  name: "divergenceOnOneWindow",
  codes: ["W0406"],
  run(e, where, report) {
    const d = e.train.divergence;
    if (d.kind === "above_uniform" && d.windows === 1)
      report(
        Diag.divergenceOnOneWindow(
          where.at("train.divergence.windows") ?? where.at("train.divergence.kind") ?? where.experiment,
        ),
      );
  },
});
