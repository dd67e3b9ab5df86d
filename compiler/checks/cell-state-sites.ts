import { Diag } from "../diagnostics.js";
import { rule } from "./rule.js";

/** Zoneout of c and normalization of c need a cell state; only the LSTM has one. A tanh RNN has no forget gate. */
export const cellStateSites = rule({
  name: "cellStateSites",
  codes: ["E0308", "W0403"],
  run(e, where, report) {
    const noCell = e.model.layers.find((l) => l.cell !== "lstm");
    if (!noCell) return;
    if (e.dropout.zoneout.cell > 0)
      report(
        Diag.siteIncompatibleWithCell(where.at("dropout.zoneout.cell") ?? where.experiment, "zoneout", noCell.cell),
      );
    if (e.model.norm?.sites.includes("cell"))
      report(
        Diag.siteIncompatibleWithCell(
          where.at("model.norm.sites") ?? where.at("model.norm.kind") ?? where.experiment,
          "norm",
          noCell.cell,
        ),
      );
    const fb = where.at("model.forgetBias");
    if (fb && e.model.layers.every((l) => l.cell === "rnn"))
      report(Diag.noEffect(fb, "forget_bias", { kind: "noForgetGate" }));
  },
});
