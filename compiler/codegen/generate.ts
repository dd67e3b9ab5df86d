// IR → one TypeScript module of training code, built with ts-morph and formatted by prettier. The output reads
// like hand-written code for this one experiment: the model class shows, at the line, which tensor each
// dropout mask multiplies, and comments point back to the spec line that caused each part. Deterministic: the
// same IR gives the same bytes (no dates, no absolute paths, sorted nothing left to chance).
//
// The generator never imports the runtime: it only writes `import … from "rnnc/runtime"`. Text from the user
// (paths, names, string values of the IR) reaches the output only through emit-text.ts: `str` for a string
// literal, `c` for comment text, `identifier` for the model class's name.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import * as prettier from "prettier";
import type * as TsMorph from "ts-morph";
import type { CodeBlockWriter, MethodDeclarationStructure } from "ts-morph";
import type { ExperimentIR, InitIR, LayerIR, OptimizerIR, Origin, ScheduleIR, VerticalSiteIR } from "../ir.js";
import { VERSION } from "../version.js";
import { commentText as c, identifier, stringLiteral as str } from "./emit-text.js";

// ts-morph is CommonJS around a 9 MB bundled TypeScript. Imported from ESM, Node first scans it with its CJS
// export lexer (~200 ms); require() loads it without that scan. The CLI puts a V8 code cache under it
// (cli/code-cache.ts) before this module loads.
const { Project, StructureKind, VariableDeclarationKind } = createRequire(import.meta.url)("ts-morph") as typeof TsMorph;

export const RUNTIME_MODULE = "rnnc/runtime";

export interface GenerateOptions {
  /** The spec's path as the user gave it (relative), for the header. */
  readonly specPath: string;
}

/** SHA-256 of the IR without origins: formatting, comments and inheritance paths do not change it. */
export function irHash(e: ExperimentIR): string {
  const { origins: _o, source: _s, extends: _x, ...semantic } = e;
  return createHash("sha256").update(JSON.stringify(semantic)).digest("hex");
}

/** The runtime names generated code may import; type-only ones marked. Nothing else is imported (checked in imports()). */
const RUNTIME_IMPORTS: Readonly<Record<string, "type" | "value">> = {
  Experiment: "type", RunOptions: "type", RunResult: "type", ModelSetup: "type", ModelOutput: "type", LanguageModel: "type",
  LayerState: "type", StepContext: "type", Tensor2D: "type", Tensor3D: "type", Scalar: "type", ClassifierExperiment: "type",
  ClassifierRunResult: "type", ClassifierSetup: "type", SequenceClassifier: "type",
  runExperiment: "value", runClassifier: "value", runIfMain: "value", Embedding: "value", RecurrentLayer: "value", SoftmaxOutput: "value",
  init: "value", lastStep: "value", initialState: "value", activationRegularization: "value", temporalActivationRegularization: "value",
  sumScalars: "value", sgd: "value", adam: "value", rmsprop: "value", ntasgd: "value", constant: "value", decay: "value",
  plateau: "value", atEpochs: "value",
};

/**
 * Names the module declares itself (`experiment`, `run`) and the locals and parameters of its functions: the model
 * class, named after the experiment, must not be any of them nor an import (`experiment language` would otherwise
 * give `class LanguageModel implements LanguageModel`).
 */
const DECLARED = ["experiment", "run", "setup", "options", "vocab", "classes", "params", "batch", "tokens", "pixels", "state", "ctx", "out", "embedded", "x", "hidden", "B", "ar", "tar"];
const RESERVED_NAMES: ReadonlySet<string> = new Set([...Object.keys(RUNTIME_IMPORTS), ...DECLARED]);

/** `zaremba_small` → `ZarembaSmall`; a sweep point `ar_sweep[ar=2]` → `ArSweepAr2`. */
const pascal = (name: string): string =>
  name
    .replace(/\[[\s\S]*\]$/, (v) => `_${v.replace(/[^A-Za-z0-9]+/g, "_")}`)
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");

const num = (x: number): string => (Number.isInteger(x) || Math.abs(x) >= 1e-3 ? String(x) : x.toExponential());

export async function generate(e: ExperimentIR, opts: GenerateOptions): Promise<string> {
  const g = new Generator(e);
  const project = new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true });
  const sf = project.createSourceFile("model.ts", "", { overwrite: true });
  const hash = irHash(e);
  sf.addImportDeclaration({ moduleSpecifier: RUNTIME_MODULE, namedImports: g.imports() });
  const classify = e.task.kind === "classify";
  if (classify) g.classifierClass(sf);
  else g.modelClass(sf);
  sf.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ["The experiment as the runtime runs it: data, training settings, and the model above."],
    declarations: [{ name: "experiment", type: classify ? "ClassifierExperiment" : "Experiment", initializer: (w) => g.experiment(w, opts.specPath, hash) }],
  });
  sf.addStatements([
    "/** Train, as `rnnc run` does; options as in the runtime's RunOptions. */",
    classify
      ? "export const run = (options: RunOptions): Promise<ClassifierRunResult> => runClassifier(experiment, options);"
      : "export const run = (options: RunOptions): Promise<RunResult> => runExperiment(experiment, options);",
    "// Run directly (`node model.js [--epochs N] [--limit-batches N] [--backend B] [--threads N] [--data DIR] [--run-dir DIR] [--resume FILE] [--evaluate FILE]`).",
    "await runIfMain(import.meta.url, experiment);",
  ]);
  const header = [
    `// DO NOT EDIT: generated by rnnc ${VERSION} from ${c(opts.specPath)}, experiment ${c(e.name)}.`,
    `// IR sha256 ${hash}.`,
    `// Change the spec and rebuild: rnnc build ${c(opts.specPath)}`,
    ...(e.extends.length ? [`// Inherits from: ${e.extends.map(c).join(" ← ")}`] : []),
  ];
  // babel-ts, not typescript: the same output for this code (the goldens agree), without loading prettier's copy of the TypeScript parser
  return prettier.format(`${header.join("\n")}\n\n${sf.getFullText()}`, { parser: "babel-ts", printWidth: 120 });
}

class Generator {
  private readonly used = new Set<string>(["Experiment", "RunOptions", "RunResult", "runExperiment", "runIfMain", "ModelSetup", "ModelOutput", "LanguageModel", "LayerState", "StepContext", "Tensor2D", "Embedding", "RecurrentLayer", "SoftmaxOutput", "init"]);
  readonly className: string;

  constructor(private readonly e: ExperimentIR) {
    this.className = identifier(`${pascal(e.name)}Model`, RESERVED_NAMES);
  }

  imports(): { name: string; isTypeOnly?: boolean }[] {
    if (this.e.task.kind === "classify") {
      for (const n of ["Experiment", "RunResult", "runExperiment", "ModelSetup", "ModelOutput", "LanguageModel", "LayerState", "Embedding"]) this.used.delete(n);
      for (const n of ["ClassifierExperiment", "ClassifierRunResult", "runClassifier", "ClassifierSetup", "SequenceClassifier", "Tensor3D", "lastStep"]) this.used.add(n);
      if (this.e.model.initialStateNoise > 0) this.used.add("initialState");
    }
    const o = this.e.train.optimizer;
    this.used.add(o.kind);
    this.used.add(scheduleFn(this.e.train.schedule));
    const { ar, tar } = this.e.regularize;
    if (ar.alpha > 0) this.used.add("activationRegularization");
    if (tar.beta > 0) this.used.add("temporalActivationRegularization");
    if (ar.alpha > 0 || tar.beta > 0) this.used.add("Scalar");
    if (ar.alpha > 0 && tar.beta > 0) this.used.add("sumScalars");
    return [...this.used].sort().map((name) => {
      const kind = RUNTIME_IMPORTS[name];
      if (!kind) throw new Error(`codegen: ${name} is not in RUNTIME_IMPORTS`); // a bug: the model class could collide with it
      return { name, isTypeOnly: kind === "type" };
    });
  }

  /** `(file.rnn:12)` for the places the given IR paths were set; nothing for defaults. */
  private at(...paths: string[]): string {
    const places = new Set<string>();
    for (const p of paths) {
      const o: Origin | undefined = this.e.origins[p];
      if (o && o !== "default") places.add(`${c(o.file.split("/").pop()!)}:${o.line}`);
    }
    return places.size ? `(${[...places].join(", ")})` : "(default)";
  }

  private init(i: InitIR): string {
    switch (i.kind) {
      case "uniform":
        return `init.uniform(${num(i.scale)})`;
      case "uniform_inv_sqrt_hidden":
        return "init.uniformInvSqrtHidden()";
      case "normal":
        return `init.normal(${num(i.std)})`;
      case "orthogonal":
        return `init.orthogonal(${num(i.gain)})`;
      case "identity":
        return `init.identity(${num(i.scale)})`;
      case "xavier_uniform":
        return "init.xavierUniform()";
    }
  }

  private get embed(): number {
    return this.e.model.embed ?? this.e.model.layers[0]!.hidden;
  }

  modelClass(sf: import("ts-morph").SourceFile): void {
    const m = this.e.model;
    const layers = m.layers;
    const describe = layers.map((l) => `${c(l.cell)}(${l.hidden})`).join(" → ");
    const penalty = this.penaltyMethod();
    sf.addClass({
      name: this.className,
      isExported: true,
      implements: ["LanguageModel"],
      docs: [
        `${layers.length}-layer ${describe} language model: embedding ${this.embed} → ${describe} → softmax${m.tie ? " (tied to the embedding)" : ""}.`,
      ],
      properties: [
        { name: "params", isReadonly: true, type: 'ModelSetup["params"]' },
        { name: "embedding", isReadonly: true, type: "Embedding" },
        ...layers.map((_, k) => ({ name: `layer${k + 1}`, isReadonly: true, type: "RecurrentLayer" })),
        { name: "output", isReadonly: true, type: "SoftmaxOutput" },
      ],
      ctors: [{ parameters: [{ name: "{ vocab, params }", type: "ModelSetup" }], statements: (w) => this.constructorBody(w) }],
      methods: [
        {
          name: "initialState",
          parameters: [{ name: "batch", type: "number" }],
          returnType: "LayerState[]",
          statements: (w) => {
            w.writeLine(`return [${layers.map((_, k) => `this.layer${k + 1}.zeroState(batch)`).join(", ")}];`);
          },
        },
        {
          name: "forward",
          docs: ["tokens [T, B] → the hidden sequence the softmax reads [T, B, D], the last layer's raw output, and each layer's final state."],
          parameters: [
            { name: "tokens", type: "Tensor2D" },
            { name: "state", type: "readonly LayerState[]" },
            { name: "ctx", type: "StepContext" },
          ],
          returnType: "ModelOutput",
          statements: (w) => this.forwardBody(w),
        },
        ...(penalty ? [penalty] : []),
      ],
    });
  }

  private constructorBody(w: CodeBlockWriter): void {
    const m = this.e.model;
    w.writeLine("this.params = params;");
    w.writeLine(`// embed ${this.embed} ${this.at("model.embed", "model.embedInit.kind")}`);
    const pe = this.e.dropout.embedding.p;
    if (pe > 0) {
      w.writeLine(`// dropout embedding ${num(pe)} ${this.at("dropout.embedding.p")}: drops whole word types (rows of E), one mask per window`);
      w.writeLine(`this.embedding = new Embedding(params, "embedding", vocab, ${this.embed}, ${this.init(m.embedInit)}, ${num(pe)});`);
    } else w.writeLine(`this.embedding = new Embedding(params, "embedding", vocab, ${this.embed}, ${this.init(m.embedInit)});`);
    let input = this.embed;
    m.layers.forEach((l: LayerIR, k) => {
      const opts = [`init: ${this.init(m.init)}`, `recurrentInit: ${this.init(m.recurrentInit)}`];
      if (l.cell === "lstm") opts.push(`forgetBias: ${num(m.forgetBias)}`);
      if (l.cell === "rnn") opts.push(`activation: ${str(l.activation ?? "tanh")}`);
      w.writeLine(`// layer ${k + 1}: ${c(l.cell)}(${l.hidden})${l.cell === "rnn" ? ` ${c(String(l.activation))}` : ""} ${this.at(`model.layers.${k}.cell`, `model.layers.${k}.hidden`, "model.init.kind", "model.recurrentInit.kind")}`);
      opts.push(...this.recurrentSites(w, l));
      w.writeLine(`this.layer${k + 1} = new RecurrentLayer(params, "layer${k + 1}", ${str(l.cell)}, ${input}, ${l.hidden}, { ${opts.join(", ")} });`);
      input = l.hidden;
    });
    if (m.tie) {
      w.writeLine(`// tie ${this.at("model.tie")}: the softmax weight is the embedding matrix (Inan et al. 2017; Press & Wolf 2017)`);
      w.writeLine(`this.output = new SoftmaxOutput(params, "output", ${input}, vocab, { init: ${this.init(m.init)}, tiedTo: this.embedding.weight });`);
    } else {
      w.writeLine(`this.output = new SoftmaxOutput(params, "output", ${input}, vocab, { init: ${this.init(m.init)} });`);
    }
  }

  /** One vertical dropout site: `decl target = ctx.dropout(from, p, mask)`, or a plain assignment at p = 0. */
  private site(w: CodeBlockWriter, name: "input" | "between" | "output", s: VerticalSiteIR, decl: string, from: string, what: string): void {
    if (s.p === 0) {
      w.writeLine(`${decl} = ${from}; // no ${name} dropout`);
      return;
    }
    const mode = s.mask === "locked" ? "one mask per sequence, shared by every step (locked)" : "a fresh mask at every step";
    w.writeLine(`// dropout ${name} ${num(s.p)} ${this.at(`dropout.${name}.p`, `dropout.${name}.mask`)}: ${what}; ${mode}.`);
    w.writeLine(`${decl} = ctx.dropout(${from}, ${num(s.p)}, ${str(s.mask)});`);
  }

  private forwardBody(w: CodeBlockWriter): void {
    const { layers } = this.e.model;
    const d = this.e.dropout;
    const L = layers.length;
    if (d.input.p > 0 || d.between.p > 0 || d.output.p > 0) {
      w.writeLine("// Every mask here is vertical (Zaremba et al. 2014, §3.2): it multiplies a layer's input sequence x_t.");
      w.writeLine("// None touches h_{t-1} or c_{t-1}, which each layer carries through time inside its forward.");
    }
    w.writeLine(`const embedded = this.embedding.forward(tokens, ctx); // [T, B, ${this.embed}]`);
    this.site(w, "input", d.input, "let x", "embedded", "embedding → layer 1");
    layers.forEach((l, k) => {
      const n = k + 1;
      w.writeLine(`const l${n} = this.layer${n}.forward(x, state[${k}]!, ctx); // y: [T, B, ${l.hidden}]`);
      if (n < L) this.site(w, "between", d.between, "x", `l${n}.y`, `layer ${n} → layer ${n + 1}`);
    });
    this.site(w, "output", d.output, "const hidden", `l${L}.y`, `layer ${L} → softmax`);
    w.writeLine(`return { hidden, raw: l${L}.y, state: [${layers.map((_, k) => `l${k + 1}.state`).join(", ")}] };`);
  }

  /** The recurrent sites of a layer as RecurrentLayer options, each with a comment on what it touches. */
  private recurrentSites(w: CodeBlockWriter, l: LayerIR): string[] {
    const d = this.e.dropout;
    const opts: string[] = [];
    if (d.recurrent.p > 0) {
      const how = d.recurrent.mode === "variational" ? "one mask on h_{t-1}, shared by every step (Gal & Ghahramani 2016)" : "a fresh mask on h_{t-1} at every step (destructive: Zaremba et al. 2014, §3.2)";
      w.writeLine(`//   dropout recurrent ${num(d.recurrent.p)} ${c(d.recurrent.mode)} ${this.at("dropout.recurrent.p", "dropout.recurrent.mode")}: ${how}, where h_{t-1} enters U`);
      opts.push(`recurrentDropout: { p: ${num(d.recurrent.p)}, mode: ${str(d.recurrent.mode)} }`);
    }
    if (d.weight.p > 0) {
      w.writeLine(`//   dropout weight ${num(d.weight.p)} ${this.at("dropout.weight.p")}: DropConnect on U, one mask per window (Merity et al. 2018)`);
      opts.push(`weightDrop: ${num(d.weight.p)}`);
    }
    const zc = l.cell === "lstm" ? d.zoneout.cell : 0;
    if (d.zoneout.hidden > 0 || zc > 0) {
      w.writeLine(`//   zoneout ${this.at("dropout.zoneout.hidden", "dropout.zoneout.cell")}: units of h${zc > 0 ? " and c" : ""} keep their previous value (Krueger et al. 2017); the expectation at evaluation`);
      opts.push(`zoneout: { hidden: ${num(d.zoneout.hidden)}, cell: ${num(zc)} }`);
    }
    const n = this.e.model.norm;
    if (n) {
      const slots = n.kind === "layer" ? 1 : n.stats === "shared" ? 1 : (n.maxSteps ?? this.e.data.bptt);
      const what =
        n.kind === "batch"
          ? `batch norm of ${n.sites.map(c).join(", ")}: statistics ${n.stats === "per_step" ? `per time step, T_max ${slots}` : "shared across time"}, population average at rate ${num(n.momentum)} (Cooijmans et al. 2017, eq. 6–8)`
          : `layer norm of ${n.sites.map(c).join(", ")} over each example's units (Ba et al. 2016, eq. 20–22)`;
      w.writeLine(`//   norm ${this.at("model.norm.kind", "model.norm.sites", "model.norm.gamma", "model.norm.stats")}: ${what}; γ starts at ${num(n.gamma)}`);
      const sites = n.sites.filter((s) => s !== "cell" || l.cell === "lstm");
      opts.push(`norm: { kind: ${str(n.kind)}, sites: [${sites.map(str).join(", ")}], gamma: ${num(n.gamma)}, epsilon: ${num(n.epsilon)}, momentum: ${num(n.momentum)}, slots: ${slots} }`);
    }
    return opts;
  }

  /** AR and TAR (Merity et al. 2017) as the model's penalty; nothing when both are off. */
  penaltyMethod(): MethodDeclarationStructure | null {
    const { ar, tar } = this.e.regularize;
    if (ar.alpha === 0 && tar.beta === 0) return null;
    const input = (on: "dropped" | "raw"): string => (on === "dropped" ? "out.hidden" : "out.raw");
    return {
      kind: StructureKind.Method,
      name: "penalty",
      docs: ["Regularizers on the last layer, added to the training loss only (Merity et al. 2017; means, as awd-lstm-lm)."],
      parameters: [{ name: "out", type: "ModelOutput" }],
      returnType: "Scalar",
      statements: (w) => {
        const terms: string[] = [];
        if (ar.alpha > 0) {
          w.writeLine(`// ar ${num(ar.alpha)} ${this.at("regularize.ar.alpha", "regularize.ar.on")}: α·mean((m ⊙ h_t)²) on the ${c(ar.on)} output (eq. 1)`);
          w.writeLine(`const ar = activationRegularization(${input(ar.on)}, ${num(ar.alpha)});`);
          terms.push("ar");
        }
        if (tar.beta > 0) {
          w.writeLine(`// tar ${num(tar.beta)} ${this.at("regularize.tar.beta", "regularize.tar.on")}: β·mean((h_t − h_{t+1})²) on the ${c(tar.on)} output (eq. 2)`);
          w.writeLine(`const tar = temporalActivationRegularization(${input(tar.on)}, ${num(tar.beta)});`);
          terms.push("tar");
        }
        w.writeLine(`return ${terms.length === 1 ? terms[0] : `sumScalars(${terms.join(", ")})`};`);
      },
    };
  }

  /**
   * The model of `task classify` (Cooijmans et al. 2017, §5.1): pixels [T, B, 1] through the stack, every sequence
   * from a zero state, and class logits from the last step's hidden state.
   */
  classifierClass(sf: import("ts-morph").SourceFile): void {
    const m = this.e.model;
    const d = this.e.dropout;
    const layers = m.layers;
    const L = layers.length;
    const describe = layers.map((l) => `${c(l.cell)}(${l.hidden})`).join(" → ");
    sf.addClass({
      name: this.className,
      isExported: true,
      implements: ["SequenceClassifier"],
      docs: [`${L}-layer ${describe} sequence classifier: one pixel per step → ${describe} → linear read-out of h_T → ${this.e.task.classes} classes.`],
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
              const opts = [`init: ${this.init(m.init)}`, `recurrentInit: ${this.init(m.recurrentInit)}`];
              if (l.cell === "lstm") opts.push(`forgetBias: ${num(m.forgetBias)}`);
              if (l.cell === "rnn") opts.push(`activation: ${str(l.activation ?? "tanh")}`);
              w.writeLine(`// layer ${k + 1}: ${c(l.cell)}(${l.hidden}) ${this.at(`model.layers.${k}.cell`, `model.layers.${k}.hidden`, "model.init.kind", "model.recurrentInit.kind")}`);
              opts.push(...this.recurrentSites(w, l));
              w.writeLine(`this.layer${k + 1} = new RecurrentLayer(params, "layer${k + 1}", ${str(l.cell)}, ${input}, ${l.hidden}, { ${opts.join(", ")} });`);
              input = l.hidden;
            });
            w.writeLine(`// task classify ${this.at("task.kind")}: a linear read-out of the last hidden state`);
            w.writeLine(`this.output = new SoftmaxOutput(params, "output", ${input}, classes, { init: ${this.init(m.init)} });`);
          },
        },
      ],
      methods: [
        {
          name: "forward",
          docs: [`pixels [T, B, 1] → the last step's hidden state [B, ${layers[L - 1]!.hidden}], which the read-out maps to class logits; every sequence starts from a ${m.initialStateNoise > 0 ? "noisy" : "zero"} state.`],
          parameters: [
            { name: "pixels", type: "Tensor3D" },
            { name: "ctx", type: "StepContext" },
          ],
          returnType: "Tensor2D",
          statements: (w) => {
            w.writeLine("const B = pixels.shape[1];");
            const noise = m.initialStateNoise;
            if (noise > 0) w.writeLine(`// initial_state_noise ${num(noise)} ${this.at("model.initialStateNoise")}: h_0 ~ N(0, ${num(noise)}²) while training, so batch norm sees variance from step 1 (Cooijmans et al. 2017, §5.1)`);
            const start = (n: number): string => (noise > 0 ? `initialState(this.layer${n}.zeroState(B), ${num(noise)}, ctx)` : `this.layer${n}.zeroState(B)`);
            this.site(w, "input", d.input, "let x", "pixels", "pixels → layer 1");
            layers.forEach((l, k) => {
              const n = k + 1;
              w.writeLine(`const l${n} = this.layer${n}.forward(x, ${start(n)}, ctx); // y: [T, B, ${l.hidden}]`);
              if (n < L) this.site(w, "between", d.between, "x", `l${n}.y`, `layer ${n} → layer ${n + 1}`);
            });
            this.site(w, "output", d.output, "const hidden", `l${L}.y`, `layer ${L} → read-out`);
            w.writeLine("return lastStep(hidden); // h_T: the class is read from the last hidden state (§5.1)");
          },
        },
      ],
    });
  }

  experiment(w: CodeBlockWriter, specPath: string, hash: string): void {
    const { data, train, regularize } = this.e;
    w.inlineBlock(() => {
      if (this.e.task.kind === "classify") w.writeLine(`task: "classify", // ${this.at("task.kind")}`);
      w.writeLine(`name: ${str(this.e.name)},`);
      w.writeLine(`spec: { file: ${str(specPath)}, hash: "${hash}" },`);
      w.writeLine(`// data ${c(data.dataset)} ${this.at("data.dataset", "data.batch", "data.bptt")}`);
      const synthetic = data.synthetic ? `{ vocab: ${data.vocab}, order: ${data.synthetic.order}, tokens: ${data.synthetic.tokens}, seed: ${data.synthetic.seed} }` : "null";
      if (this.e.task.kind === "classify")
        w.writeLine(
          `data: { dataset: ${str(data.dataset)}, batch: ${data.batch}, evalBatch: ${data.evalBatch}, testBatch: ${data.testBatch}, permutationSeed: ${data.dataset === "pmnist" ? (data.permutationSeed ?? 0) : "null"} },`,
        );
      else
        w.writeLine(
          `data: { dataset: ${str(data.dataset)}, path: ${data.path === null ? "null" : str(data.path)}, batch: ${data.batch}, evalBatch: ${data.evalBatch}, testBatch: ${data.testBatch}, bptt: ${data.bptt}, stateful: ${data.stateful},${data.randomCrop ? " randomCrop: true," : ""} synthetic: ${synthetic} },`,
        );
      w.writeLine("training: {");
      w.writeLine(`epochs: ${train.epochs}, // ${this.at("train.epochs")}`);
      w.writeLine(`optimizer: ${optimizer(train.optimizer)}, // ${this.at("train.optimizer.kind", "train.optimizer.lr")}`);
      w.writeLine(`schedule: ${schedule(train.schedule)}, // ${this.at("train.schedule.kind")}`);
      w.writeLine(`clip: ${train.clip === null ? "null" : num(train.clip)}, // global gradient norm ${this.at("train.clip")}`);
      w.writeLine(`weightDecay: ${num(regularize.weightDecay)}, // ${this.at("regularize.weightDecay")}`);
      if (this.e.task.kind === "classify") w.writeLine("// loss: the cross-entropy of each sequence's label, averaged over the batch");
      else {
        const loss = train.loss === "sum_steps" ? "cross-entropy summed over the BPTT steps, averaged over the batch (Zaremba et al. 2014)" : "cross-entropy averaged over every token (Merity et al. 2017)";
        w.writeLine(`loss: ${str(train.loss)}, // ${loss} ${this.at("train.loss")}`);
      }
      w.writeLine(`seed: ${train.seed}, // ${this.at("train.seed")}`);
      const dv = train.divergence;
      w.writeLine(`divergence: ${dv.kind === "off" ? "null" : `{ margin: ${num(dv.margin)}, windows: ${dv.windows} }`}, // ${dv.kind === "off" ? "off: only a NaN or infinite loss stops the run" : `stop once the loss stays above ln ${this.e.task.kind === "classify" ? "classes" : "V"} + margin for this many windows`} ${this.at("train.divergence.kind")}`);
      if (train.bptt.kind === "variable")
        w.writeLine(`variableBptt: { p: ${num(train.bptt.p)}, std: ${num(train.bptt.std)} }, // N(bptt, std) w.p. p, else N(bptt/2, std); lr × length/bptt (Merity et al. 2018) ${this.at("train.bptt.kind")}`);
      w.writeLine("},");
      w.writeLine(`createModel: (setup) => new ${this.className}(setup),`);
    });
  }
}

function optimizer(o: OptimizerIR): string {
  switch (o.kind) {
    case "sgd":
      return `sgd({ lr: ${num(o.lr)}, momentum: ${num(o.momentum)} })`;
    case "adam":
      return `adam({ lr: ${num(o.lr)}, beta1: ${num(o.beta1)}, beta2: ${num(o.beta2)}, epsilon: ${num(o.epsilon)} })`;
    case "rmsprop":
      return `rmsprop({ lr: ${num(o.lr)}, decay: ${num(o.decay)}, momentum: ${num(o.momentum)}, epsilon: ${num(o.epsilon)} })`;
    case "ntasgd":
      return `ntasgd({ lr: ${num(o.lr)}, nonmono: ${o.nonmono} })`;
  }
}

function scheduleFn(s: ScheduleIR): string {
  return s.kind === "at_epochs" ? "atEpochs" : s.kind;
}

function schedule(s: ScheduleIR): string {
  switch (s.kind) {
    case "constant":
      return "constant()";
    case "decay":
      return `decay({ by: ${num(s.by)}, after: ${s.after} })`;
    case "plateau":
      return `plateau({ divide: ${num(s.divide)}, patience: ${s.patience} })`;
    case "at_epochs":
      return `atEpochs({ epochs: [${s.epochs.join(", ")}], by: ${num(s.by)} })`;
  }
}
