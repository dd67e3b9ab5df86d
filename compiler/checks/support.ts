// Which parts of a valid experiment code generation can turn into training code today. A setting is never
// silently ignored: everything the runtime cannot do yet is refused with E0500, located at the setting. A rule like
// the others, so `rnnc check` reports it as `rnnc build` and `rnnc run` do.
import { Diag, type UnsupportedFeature } from "../diagnostics.js";
import type { ExperimentIR } from "../ir.js";
import type { IRPath } from "../schema/index.js";
import { rule } from "./rule.js";

interface Unsupported {
  readonly feature: UnsupportedFeature;
  /** The IR path whose written value locates it. */
  readonly path: IRPath;
}

export function unsupportedFeatures(e: ExperimentIR): Unsupported[] {
  const out: Unsupported[] = [];
  const need = (cond: boolean, feature: UnsupportedFeature, path: IRPath): void => {
    if (cond) out.push({ feature, path });
  };
  // A language model carries its state across windows: noise on h_0 would perturb only each epoch's first window.
  need(
    e.model.initialStateNoise > 0 && e.task.kind === "lm",
    "initialStateNoiseOfLanguageModel",
    "model.initialStateNoise",
  );
  // The classifier has no penalty term: its model class reads out h_T only (Cooijmans et al. 2017, §5.1).
  const { ar, tar } = e.regularize;
  need(e.task.kind === "classify" && ar.alpha > 0, "activationRegularizationOfClassifier", "regularize.ar.alpha");
  need(e.task.kind === "classify" && tar.beta > 0, "activationRegularizationOfClassifier", "regularize.tar.beta");
  return out;
}

export const support = rule({
  name: "support",
  codes: ["E0500"],
  run(e, where, report) {
    for (const u of unsupportedFeatures(e))
      report(Diag.notYetSupported(where.at(u.path) ?? where.experiment, u.feature));
  },
});
