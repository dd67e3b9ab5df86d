import { Diag } from "../diagnostics.js";
import { rule } from "./rule.js";

/**
 * `shuffle` trains on independent examples in a random order (Cooijmans et al. 2017, §5.2): a state carried from one
 * batch to the next would join unrelated text, and the examples are cut once per epoch at the fixed `bptt` length.
 */
export const shuffleFraming = rule({
  name: "shuffleFraming",
  codes: ["E0319"],
  run(e, where, report) {
    const at = where.at("data.shuffle");
    if (!at || !e.data.shuffle || e.task.kind !== "lm") return;
    if (e.data.stateful) report(Diag.incompatibleSettings(at, { kind: "shuffleWithState" }, where.at("data.stateful")));
    if (e.train.bptt.kind === "variable")
      report(Diag.incompatibleSettings(at, { kind: "shuffleWithVariableBptt" }, where.at("train.bptt")));
  },
});
