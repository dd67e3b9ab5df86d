// The `experiment` object the runtime runs (data, training settings, the model factory) and the module's `run`
// export and direct-run line.
import type { CodeBlockWriter, SourceFile } from "ts-morph";
import { commentText as c, stringLiteral as str } from "../emit-text.js";
import { num, type EmitContext } from "./context.js";
import { emitOptimizer } from "./optimizer.js";
import { emitSchedule } from "./schedule.js";
import { VariableDeclarationKind } from "./ts-morph.js";

export function emitExperiment(x: EmitContext, sf: SourceFile, specPath: string, hash: string): void {
  const classify = x.e.task.kind === "classify";
  x.use(classify ? "ClassifierExperiment" : "Experiment");
  sf.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ["The experiment as the runtime runs it: data, training settings, and the model above."],
    declarations: [
      {
        name: "experiment",
        type: classify ? "ClassifierExperiment" : "Experiment",
        initializer: (w) => experimentObject(x, w, specPath, hash),
      },
    ],
  });
}

export function emitRun(x: EmitContext, sf: SourceFile): void {
  const classify = x.e.task.kind === "classify";
  x.use(
    "RunOptions",
    "runIfMain",
    ...(classify ? (["ClassifierRunResult", "runClassifier"] as const) : (["RunResult", "runExperiment"] as const)),
  );
  sf.addStatements([
    "/** Train, as `rnnc run` does; options as in the runtime's RunOptions. */",
    classify
      ? "export const run = (options: RunOptions): Promise<ClassifierRunResult> => runClassifier(experiment, options);"
      : "export const run = (options: RunOptions): Promise<RunResult> => runExperiment(experiment, options);",
    "// Run directly: `node model.mjs --help` (each run in runs/<experiment>/<timestamp>/; --resume RUN_DIR continues one).",
    "await runIfMain(import.meta.url, experiment);",
  ]);
}

function experimentObject(x: EmitContext, w: CodeBlockWriter, specPath: string, hash: string): void {
  const { data, train, regularize, task } = x.e;
  w.inlineBlock(() => {
    if (task.kind === "classify") w.writeLine(`task: "classify", // ${x.at("task.kind")}`);
    w.writeLine(`name: ${str(x.e.name)},`);
    w.writeLine(`spec: { file: ${str(specPath)}, hash: "${hash}" },`);
    w.writeLine(`// data ${c(data.dataset)} ${x.at("data.dataset", "data.batch", "data.bptt")}`);
    const synthetic = data.synthetic
      ? `{ vocab: ${data.vocab}, order: ${data.synthetic.order}, tokens: ${data.synthetic.tokens}, seed: ${data.synthetic.seed} }`
      : "null";
    if (task.kind === "classify")
      w.writeLine(
        `data: { dataset: ${str(data.dataset)}, batch: ${data.batch}, evalBatch: ${data.evalBatch}, testBatch: ${data.testBatch}, permutationSeed: ${data.dataset === "pmnist" ? (data.permutationSeed ?? 0) : "null"} },`,
      );
    else
      w.writeLine(
        `data: { dataset: ${str(data.dataset)}, path: ${data.path === null ? "null" : str(data.path)}, batch: ${data.batch}, evalBatch: ${data.evalBatch}, testBatch: ${data.testBatch}, bptt: ${data.bptt}, stateful: ${data.stateful},${data.dataset === "text" && data.level === "char" ? ' level: "char",' : ""}${data.randomCrop ? " randomCrop: true," : ""}${data.shuffle ? " shuffle: true," : ""} synthetic: ${synthetic} },`,
      );
    w.writeLine("training: {");
    w.writeLine(`epochs: ${train.epochs}, // ${x.at("train.epochs")}`);
    w.writeLine(
      `optimizer: ${emitOptimizer(x, train.optimizer)}, // ${x.at("train.optimizer.kind", "train.optimizer.lr")}`,
    );
    w.writeLine(`schedule: ${emitSchedule(x, train.schedule)}, // ${x.at("train.schedule.kind")}`);
    w.writeLine(
      `clip: ${train.clip === null ? "null" : num(train.clip)}, // global gradient norm ${x.at("train.clip")}`,
    );
    w.writeLine(`weightDecay: ${num(regularize.weightDecay)}, // ${x.at("regularize.weightDecay")}`);
    if (task.kind === "classify")
      w.writeLine("// loss: the cross-entropy of each sequence's label, averaged over the batch");
    else {
      const loss =
        train.loss === "sum_steps"
          ? "cross-entropy summed over the BPTT steps, averaged over the batch (Zaremba et al. 2014)"
          : "cross-entropy averaged over every token (Merity et al. 2017)";
      w.writeLine(`loss: ${str(train.loss)}, // ${loss} ${x.at("train.loss")}`);
    }
    w.writeLine(`seed: ${train.seed}, // ${x.at("train.seed")}`);
    const dv = train.divergence;
    const stop =
      dv.kind === "off"
        ? "off: only a NaN or infinite loss stops the run"
        : `stop once the loss stays above ln ${task.kind === "classify" ? "classes" : "V"} + margin for this many windows`;
    w.writeLine(
      `divergence: ${dv.kind === "off" ? "null" : `{ margin: ${num(dv.margin)}, windows: ${dv.windows} }`}, // ${stop} ${x.at("train.divergence.kind")}`,
    );
    if (train.bptt.kind === "variable")
      w.writeLine(
        `variableBptt: { p: ${num(train.bptt.p)}, std: ${num(train.bptt.std)} }, // N(bptt, std) w.p. p, else N(bptt/2, std); lr × length/bptt (Merity et al. 2018) ${x.at("train.bptt.kind")}`,
      );
    w.writeLine("},");
    w.writeLine(`createModel: (setup) => new ${x.className}(setup),`);
  });
}
