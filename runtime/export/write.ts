// `rnnc export`: a language model's checkpoint in TensorFlow.js's standard layout (model.json with a weights
// manifest, one binary shard that tf.io reads) beside the inference module (inference.ts, as model.js) that runs it in
// Node or a browser without rnnc. The weights are those evaluation uses (NT-ASGD: the averaged ones).
import * as tf from "@tensorflow/tfjs";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openCheckpointModel } from "../train/checkpoint-model.js";
import type { Experiment, LanguageModelData } from "../train/lm-task.js";
import type { ExportOptions, RunOptions } from "../train/task.js";
import type { ModelJson } from "./inference.js";

const INFERENCE_JS = join(dirname(fileURLToPath(import.meta.url)), "inference.js");

export async function exportCheckpoint(
  exp: Experiment,
  load: () => Promise<LanguageModelData>,
  file: string,
  opts: RunOptions,
  o: ExportOptions,
): Promise<string> {
  const { data, params, optimizer } = await openCheckpointModel(exp, load, file, opts);
  const vars = params.list.map((p) => p.variable);
  const encoded = await optimizer.withAveraged(vars, () =>
    tf.io.encodeWeights(Object.fromEntries(params.list.map((p) => [p.name, p.variable]))),
  );
  optimizer.dispose();
  const json: ModelJson = {
    format: "rnnc-lm",
    formatVersion: 1,
    experiment: exp.name,
    architecture: o.architecture,
    vocab: data.tokens,
    level: data.level,
    weightsManifest: [{ paths: ["weights.bin"], weights: encoded.specs }],
  };
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, "model.json"), JSON.stringify(json) + "\n");
  writeFileSync(join(o.out, "weights.bin"), new Uint8Array(encoded.data));
  // the compiled inference module, without the source-map comment (its map stays in rnnc's dist)
  writeFileSync(
    join(o.out, "model.js"),
    readFileSync(INFERENCE_JS, "utf8").replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n"),
  );
  writeFileSync(
    join(o.out, "package.json"),
    JSON.stringify(
      { name: "rnnc-export", private: true, type: "module", dependencies: { "@tensorflow/tfjs": tf.version.tfjs } },
      null,
      2,
    ) + "\n",
  );
  writeFileSync(join(o.out, "README.md"), readme(exp.name, file, params.count(), encoded.data.byteLength));
  return `exported ${file} (${params.count()} parameters, ${data.tokens.length} tokens) to ${o.out}: model.json, weights.bin, model.js`;
}

function readme(name: string, file: string, parameters: number, bytes: number): string {
  return `# ${name}, exported by rnnc

The weights of \`${file.replace(/`/g, "'")}\` (${parameters} parameters, ${bytes} bytes of float32) in
TensorFlow.js's layout: \`model.json\` holds the architecture, the vocabulary and a weights manifest; \`weights.bin\`
the weights (\`tf.io.decodeWeights\`). \`model.js\` runs the model with \`@tensorflow/tfjs\` alone, in Node or a browser:

\`\`\`js
import { ExportedLanguageModel } from './model.js';
const model = await ExportedLanguageModel.load('model.json'); // a path in Node, a URL in a browser
const ids = ['the', 'company'].map((w) => model.vocab.indexOf(w));
const p = model.nextTokenProbabilities(ids); // Float32Array over model.vocab
\`\`\`

\`model.evaluate(ids, { batch, bptt })\` gives the mean loss and perplexity of a token stream as \`rnnc eval\` computes
them. Install the one dependency first: \`npm install\`.
`;
}
