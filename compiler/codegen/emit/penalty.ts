// AR and TAR (Merity et al. 2017, eq. 1 and 2) as the language model's `penalty` method.
import type { MethodDeclarationStructure } from "ts-morph";
import { commentText as c } from "../emit-text.js";
import { num, type EmitContext } from "./context.js";
import { StructureKind } from "./ts-morph.js";

/** The `penalty` method; null when both AR and TAR are off. */
export function emitPenalty(x: EmitContext): MethodDeclarationStructure | null {
  const { ar, tar } = x.e.regularize;
  if (ar.alpha === 0 && tar.beta === 0) return null;
  x.use("ModelOutput", "Scalar");
  const input = (on: "dropped" | "raw"): string => (on === "dropped" ? "out.hidden" : "out.raw");
  return {
    kind: StructureKind.Method,
    name: "penalty",
    docs: [
      "Regularizers on the last layer, added to the training loss only (Merity et al. 2017; means, as awd-lstm-lm).",
    ],
    parameters: [{ name: "out", type: "ModelOutput" }],
    returnType: "Scalar",
    statements: (w) => {
      const terms: string[] = [];
      if (ar.alpha > 0) {
        x.use("activationRegularization");
        w.writeLine(
          `// ar ${num(ar.alpha)} ${x.at("regularize.ar.alpha", "regularize.ar.on")}: α·mean((m ⊙ h_t)²) on the ${c(ar.on)} output (eq. 1)`,
        );
        w.writeLine(`const ar = activationRegularization(${input(ar.on)}, ${num(ar.alpha)});`);
        terms.push("ar");
      }
      if (tar.beta > 0) {
        x.use("temporalActivationRegularization");
        w.writeLine(
          `// tar ${num(tar.beta)} ${x.at("regularize.tar.beta", "regularize.tar.on")}: β·mean((h_t − h_{t+1})²) on the ${c(tar.on)} output (eq. 2)`,
        );
        w.writeLine(`const tar = temporalActivationRegularization(${input(tar.on)}, ${num(tar.beta)});`);
        terms.push("tar");
      }
      if (terms.length > 1) x.use("sumScalars");
      w.writeLine(`return ${terms.length === 1 ? terms[0] : `sumScalars(${terms.join(", ")})`};`);
    },
  };
}
