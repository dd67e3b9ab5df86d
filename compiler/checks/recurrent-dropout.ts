import { Diag } from "../diagnostics.js";
import { rule } from "./rule.js";

/**
 * A fresh dropout mask on h_{t-1} at every step erases what the recurrence carries (Zaremba et al. 2014, §3); Gal &
 * Ghahramani 2016 (§4) drop it with one mask per sequence. Written per step on purpose, it is warned, not refused.
 */
export const perStepRecurrentDropout = rule({
  name: "perStepRecurrentDropout",
  codes: ["W0402"],
  run(e, where, report) {
    const { p, mode } = e.dropout.recurrent;
    const at = where.written("dropout", "recurrent");
    if (at && mode === "per_step" && p > 0) report(Diag.perStepRecurrentDropout(at));
  },
});
