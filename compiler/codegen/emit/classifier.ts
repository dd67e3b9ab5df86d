// The model class of `task classify` (Cooijmans et al. 2017, §5.1): pixels [T, B, 1] through the stack, every
// sequence from its layers' initial state, and class logits from the last step's hidden state.
import type { SourceFile } from "ts-morph";
import { commentText as c } from "../emit-text.js";
import { num, type EmitContext } from "./context.js";
import { emitRecurrentLayer } from "./recurrent-layer.js";
import { emitVerticalSite } from "./vertical-dropout.js";

export function emitClassifier(x: EmitContext, sf: SourceFile): void {
  x.use(
    "SequenceClassifier",
    "ClassifierSetup",
    "RecurrentLayer",
    "SoftmaxOutput",
    "Tensor3D",
    "Tensor2D",
    "StepContext",
    "lastStep",
  );
  const m = x.e.model;
  const layers = m.layers;
  const L = layers.length;
  const describe = layers.map((l) => `${c(l.cell)}(${l.hidden})`).join(" → ");
  sf.addClass({
    name: x.className,
    isExported: true,
    implements: ["SequenceClassifier"],
    docs: [
      `${L}-layer ${describe} sequence classifier: one pixel per step → ${describe} → linear read-out of h_T → ${x.e.task.classes} classes.`,
    ],
    properties: [
      { name: "params", isReadonly: true, type: 'ClassifierSetup["params"]' },
      ...layers.map((_, k) => ({ name: `layer${k + 1}`, isReadonly: true, type: "RecurrentLayer" })),
      { name: "output", isReadonly: true, type: "SoftmaxOutput" },
    ],
    ctors: [
      {
        parameters: [{ name: "{ classes, params }", type: "ClassifierSetup" }],
        statements: (w) => {
          w.writeLine("this.params = params;");
          let input = 1; // one pixel per step
          layers.forEach((l, k) => {
            emitRecurrentLayer(x, w, l, k, input, { activationInComment: false });
            input = l.hidden;
          });
          w.writeLine(`// task classify ${x.at("task.kind")}: a linear read-out of the last hidden state`);
          w.writeLine(
            `this.output = new SoftmaxOutput(params, "output", ${input}, classes, { init: ${x.init(m.init)} });`,
          );
        },
      },
    ],
    methods: [
      {
        name: "forward",
        docs: [
          `pixels [T, B, 1] → the last step's hidden state [B, ${layers[L - 1]!.hidden}], which the read-out maps to class logits; every sequence starts from a ${m.initialStateNoise > 0 ? "noisy" : "zero"} state.`,
        ],
        parameters: [
          { name: "pixels", type: "Tensor3D" },
          { name: "ctx", type: "StepContext" },
        ],
        returnType: "Tensor2D",
        statements: (w) => {
          w.writeLine("const B = pixels.shape[1];");
          const noise = m.initialStateNoise;
          if (noise > 0) {
            x.use("initialState");
            // Added to the layer's h_0: zeros, or the learned h_0 (runtime/model/classifier.ts, initialState)
            const h0 =
              m.initialState === "learned" ? `the learned h_0 + N(0, ${num(noise)}²)` : `h_0 ~ N(0, ${num(noise)}²)`;
            w.writeLine(
              `// initial_state_noise ${num(noise)} ${x.at("model.initialStateNoise")}: ${h0} while training, so batch norm sees variance from step 1 (Cooijmans et al. 2017, §5.1)`,
            );
          }
          // Each layer decides the state its sequences start from; the noise, when set, is added to it.
          const start = (n: number): string =>
            noise > 0
              ? `initialState(this.layer${n}.initialState(B), ${num(noise)}, ctx)`
              : `this.layer${n}.initialState(B)`;
          emitVerticalSite(x, w, "input", layers[0]!.sites.dropoutBefore, "let x", "pixels", "pixels → layer 1");
          layers.forEach((l, k) => {
            const n = k + 1;
            w.writeLine(`const l${n} = this.layer${n}.forward(x, ${start(n)}, ctx); // y: [T, B, ${l.hidden}]`);
            if (n < L)
              emitVerticalSite(
                x,
                w,
                "between",
                layers[n]!.sites.dropoutBefore,
                "x",
                `l${n}.y`,
                `layer ${n} → layer ${n + 1}`,
              );
          });
          emitVerticalSite(
            x,
            w,
            "output",
            layers[L - 1]!.sites.dropoutAfter,
            "const hidden",
            `l${L}.y`,
            `layer ${L} → read-out`,
          );
          w.writeLine("return lastStep(hidden); // h_T: the class is read from the last hidden state (§5.1)");
        },
      },
    ],
  });
}
