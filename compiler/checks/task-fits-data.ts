import { DATASET_FACTS } from "../defaults.js";
import { Diag } from "../diagnostics.js";
import { rule } from "./rule.js";

/** The task must fit the data: classification needs labels, language modelling needs token streams. */
export const taskFitsData = rule({
  name: "taskFitsData",
  codes: ["E0310"],
  run(e, where, report) {
    if (DATASET_FACTS[e.data.dataset].task === e.task.kind) return;
    report(
      Diag.taskDataMismatch(
        where.at("task.kind") ?? where.at("data.dataset") ?? where.experiment,
        e.task.kind,
        e.data.dataset,
      ),
    );
  },
});
