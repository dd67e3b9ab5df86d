// The model class of a language model: embedding → recurrent stack → softmax, with every vertical dropout site
// written out at the line where its mask multiplies a tensor.
import type { CodeBlockWriter, SourceFile } from "ts-morph";
import { commentText as c } from "../emit-text.js";
import type { EmitContext } from "./context.js";
import { emitEmbedding } from "./embedding.js";
import { emitPenalty } from "./penalty.js";
import { emitRecurrentLayer } from "./recurrent-layer.js";
import { emitVerticalPreamble, emitVerticalSite } from "./vertical-dropout.js";

export function emitLanguageModel(x: EmitContext, sf: SourceFile): void {
  x.use(
    "LanguageModel",
    "ModelSetup",
    "Embedding",
    "RecurrentLayer",
    "SoftmaxOutput",
    "LayerState",
    "Tensor2D",
    "StepContext",
    "ModelOutput",
  );
  const m = x.e.model;
  const layers = m.layers;
  const describe = layers.map((l) => `${c(l.cell)}(${l.hidden})`).join(" → ");
  const penalty = emitPenalty(x);
  sf.addClass({
    name: x.className,
    isExported: true,
    implements: ["LanguageModel"],
    docs: [
      `${layers.length}-layer ${describe} language model: embedding ${x.embed} → ${describe} → softmax${m.tie ? " (tied to the embedding)" : ""}.`,
    ],
    properties: [
      { name: "params", isReadonly: true, type: 'ModelSetup["params"]' },
      { name: "embedding", isReadonly: true, type: "Embedding" },
      ...layers.map((_, k) => ({ name: `layer${k + 1}`, isReadonly: true, type: "RecurrentLayer" })),
      { name: "output", isReadonly: true, type: "SoftmaxOutput" },
    ],
    ctors: [
      { parameters: [{ name: "{ vocab, params }", type: "ModelSetup" }], statements: (w) => constructorBody(x, w) },
    ],
    methods: [
      {
        name: "initialState",
        parameters: [{ name: "batch", type: "number" }],
        returnType: "LayerState[]",
        // Each layer decides the state its sequences start from.
        statements: (w) =>
          void w.writeLine(`return [${layers.map((_, k) => `this.layer${k + 1}.initialState(batch)`).join(", ")}];`),
      },
      {
        name: "forward",
        docs: [
          "tokens [T, B] → the hidden sequence the softmax reads [T, B, D], the last layer's raw output, and each layer's final state.",
        ],
        parameters: [
          { name: "tokens", type: "Tensor2D" },
          { name: "state", type: "readonly LayerState[]" },
          { name: "ctx", type: "StepContext" },
        ],
        returnType: "ModelOutput",
        statements: (w) => forwardBody(x, w),
      },
      ...(penalty ? [penalty] : []),
    ],
  });
}

function constructorBody(x: EmitContext, w: CodeBlockWriter): void {
  const m = x.e.model;
  w.writeLine("this.params = params;");
  emitEmbedding(x, w);
  let input = x.embed;
  m.layers.forEach((l, k) => {
    emitRecurrentLayer(x, w, l, k, input, { activationInComment: true });
    input = l.hidden;
  });
  if (m.tie) {
    w.writeLine(
      `// tie ${x.at("model.tie")}: the softmax weight is the embedding matrix (Inan et al. 2017; Press & Wolf 2017)`,
    );
    w.writeLine(
      `this.output = new SoftmaxOutput(params, "output", ${input}, vocab, { init: ${x.init(m.init)}, tiedTo: this.embedding.weight });`,
    );
  } else {
    w.writeLine(`this.output = new SoftmaxOutput(params, "output", ${input}, vocab, { init: ${x.init(m.init)} });`);
  }
}

function forwardBody(x: EmitContext, w: CodeBlockWriter): void {
  const { layers } = x.e.model;
  const L = layers.length;
  emitVerticalPreamble(x, w);
  w.writeLine(`const embedded = this.embedding.forward(tokens, ctx); // [T, B, ${x.embed}]`);
  emitVerticalSite(x, w, "input", layers[0]!.sites.dropoutBefore, "let x", "embedded", "embedding → layer 1");
  layers.forEach((l, k) => {
    const n = k + 1;
    w.writeLine(`const l${n} = this.layer${n}.forward(x, state[${k}]!, ctx); // y: [T, B, ${l.hidden}]`);
    if (n < L)
      emitVerticalSite(x, w, "between", layers[n]!.sites.dropoutBefore, "x", `l${n}.y`, `layer ${n} → layer ${n + 1}`);
  });
  emitVerticalSite(
    x,
    w,
    "output",
    layers[L - 1]!.sites.dropoutAfter,
    "const hidden",
    `l${L}.y`,
    `layer ${L} → softmax`,
  );
  w.writeLine(`return { hidden, raw: l${L}.y, state: [${layers.map((_, k) => `l${k + 1}.state`).join(", ")}] };`);
}
