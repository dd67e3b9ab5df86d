// The inference module `rnnc export` writes beside a model's weights (as model.js): a language model's forward pass in
// plain TensorFlow.js, for Node and the browser, needing neither rnnc's compiler nor its runtime. It reads model.json
// (the architecture, the vocabulary and TensorFlow.js's weights manifest) and the weight shards it names, and gives
// next-token probabilities and perplexity. The cells are the runtime's, in evaluation mode (runtime/model/lstm.ts,
// runtime/model/gru.ts, runtime/model/rnn.ts: gate blocks [i | f | o | g] and [r | z | n]; zoneout by its
// expectation, Krueger et al. 2017 §3).
// It imports only @tensorflow/tfjs, and nothing from node: until a file path is given to load().
import * as tf from "@tensorflow/tfjs";

export interface LayerSpec {
  readonly cell: "lstm" | "gru" | "rnn";
  readonly hidden: number;
  readonly activation: "tanh" | "relu" | null;
  readonly zoneout: { readonly hidden: number; readonly cell: number } | null;
}

export interface ModelJson {
  readonly format: "rnnc-lm";
  readonly formatVersion: 1;
  readonly experiment: string;
  readonly architecture: {
    readonly embed: number;
    readonly layers: readonly LayerSpec[];
    readonly tie: boolean;
    readonly initialState: "zero" | "learned";
  };
  readonly vocab: readonly string[];
  readonly level: "word" | "char";
  readonly weightsManifest: { readonly paths: readonly string[]; readonly weights: tf.io.WeightsManifestEntry[] }[];
}

type T2 = tf.Tensor2D;
interface State {
  h: T2;
  c: T2 | null;
}

/** Reads model.json and its shards from a URL (fetch) or, in Node, from a file path. */
async function readSource(source: string): Promise<{ json: ModelJson; weights: ArrayBuffer }> {
  const isUrl = /^[a-z]+:\/\//i.test(source) && !source.startsWith("file://");
  let text: (p: string) => Promise<string>;
  let bytes: (p: string) => Promise<ArrayBuffer>;
  let join: (file: string) => string;
  if (isUrl || typeof process === "undefined") {
    text = async (u) => (await fetch(u)).text();
    bytes = async (u) => (await fetch(u)).arrayBuffer();
    join = (f) => new URL(f, source).href;
  } else {
    const fs = await import("node:fs/promises");
    const path = source.startsWith("file://") ? new URL(source).pathname : source;
    text = (p) => fs.readFile(p, "utf8");
    bytes = async (p) => {
      const b = await fs.readFile(p);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    };
    const dir = path.replace(/[^/]*$/, "");
    source = path;
    join = (f) => dir + f;
  }
  const json = JSON.parse(await text(source)) as ModelJson;
  if (json.format !== "rnnc-lm" || json.formatVersion !== 1)
    throw new Error(`${source} is not a model rnnc exported (format ${String(json.format)})`);
  const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths.map((p) => bytes(join(p)))));
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const s of shards) {
    all.set(new Uint8Array(s), at);
    at += s.byteLength;
  }
  return { json, weights: all.buffer };
}

export class ExportedLanguageModel {
  private constructor(
    readonly json: ModelJson,
    private readonly w: tf.NamedTensorMap,
  ) {}

  /** `source`: model.json's URL, or its path in Node. */
  static async load(source: string): Promise<ExportedLanguageModel> {
    const { json, weights } = await readSource(source);
    const specs = json.weightsManifest.flatMap((g) => g.weights);
    return new ExportedLanguageModel(json, tf.io.decodeWeights(weights, specs));
  }

  get vocab(): readonly string[] {
    return this.json.vocab;
  }

  private param(name: string): tf.Tensor {
    const t = this.w[name];
    if (!t) throw new Error(`model.json has no weight ${name}`);
    return t;
  }

  /** The state every sequence starts from, [B, H] per layer: zeros, or the learned h_0 and c_0. */
  initialState(batch: number): State[] {
    return this.json.architecture.layers.map((l, k) => {
      const start = (what: "h0" | "c0"): T2 =>
        this.json.architecture.initialState === "learned"
          ? (tf.tile(this.param(`layer${k + 1}.${what}`).expandDims(0), [batch, 1]) as T2)
          : tf.zeros([batch, l.hidden]);
      return { h: start("h0"), c: l.cell === "lstm" ? start("c0") : null };
    });
  }

  /** One step of every layer from `state` for tokens [B]: the logits [B, V] and the next state (the caller's). */
  step(tokens: tf.Tensor1D, state: readonly State[]): { logits: T2; state: State[] } {
    let result!: { logits: T2; state: State[] };
    tf.tidy(() => {
      let x = tf.gather(this.param("embedding.weight"), tokens) as T2;
      const next: State[] = [];
      this.json.architecture.layers.forEach((l, k) => {
        const name = `layer${k + 1}`;
        const { h, c } = state[k]!;
        const a = tf.add(tf.matMul(x, this.param(`${name}.W`) as T2), this.param(`${name}.b`)) as T2;
        const r = tf.matMul(h, this.param(`${name}.U`) as T2);
        const H = l.hidden;
        let hNew: T2;
        let cNew: T2 | null = null;
        if (l.cell === "lstm") {
          const pre = tf.add(a, r) as T2;
          const [i, f, o] = tf.split(tf.sigmoid(tf.slice(pre, [0, 0], [-1, 3 * H])), 3, 1) as T2[];
          const g = tf.tanh(tf.slice(pre, [0, 3 * H], [-1, H]));
          cNew = tf.add(tf.mul(f!, c!), tf.mul(i!, g)) as T2;
          hNew = tf.mul(o!, tf.tanh(cNew)) as T2;
        } else if (l.cell === "gru") {
          const rb = tf.add(r, this.param(`${name}.bh`)) as T2;
          const rz = tf.sigmoid(tf.add(tf.slice(a, [0, 0], [-1, 2 * H]), tf.slice(rb, [0, 0], [-1, 2 * H])));
          const [rg, z] = tf.split(rz, 2, 1) as T2[];
          const n = tf.tanh(tf.add(tf.slice(a, [0, 2 * H], [-1, H]), tf.mul(rg!, tf.slice(rb, [0, 2 * H], [-1, H]))));
          hNew = tf.add(n, tf.mul(z!, tf.sub(h, n))) as T2;
        } else {
          const pre = tf.add(a, r);
          hNew = (l.activation === "relu" ? tf.relu(pre) : tf.tanh(pre)) as T2;
        }
        // zoneout at evaluation: the expectation, new + p (previous − new)
        if (l.zoneout?.hidden) hNew = tf.add(hNew, tf.mul(l.zoneout.hidden, tf.sub(h, hNew))) as T2;
        if (cNew && l.zoneout?.cell) cNew = tf.add(cNew, tf.mul(l.zoneout.cell, tf.sub(c!, cNew))) as T2;
        next.push({ h: tf.keep(hNew), c: cNew ? tf.keep(cNew) : null });
        x = hNew;
      });
      const out = this.json.architecture.tie
        ? tf.matMul(x, this.param("embedding.weight") as T2, false, true)
        : tf.matMul(x, this.param("output.weight") as T2);
      result = { logits: tf.keep(tf.add(out, this.param("output.bias")) as T2), state: next };
    });
    return result;
  }

  /** P(next token | context) over the vocabulary, the context read from the initial state. */
  nextTokenProbabilities(context: readonly number[]): Float32Array {
    let state = this.initialState(1);
    let logits: T2 | null = null;
    for (const id of context.length ? context : [0]) {
      logits?.dispose();
      const s = this.step(tf.tensor1d([id], "int32"), state);
      disposeState(state);
      [logits, state] = [s.logits, s.state];
    }
    disposeState(state);
    const p = tf.tidy(() => tf.softmax(logits!.reshape([-1])));
    logits!.dispose();
    const out = p.dataSync() as Float32Array;
    p.dispose();
    return out;
  }

  /**
   * Mean negative log-likelihood per token over `ids` as `rnnc eval` computes it: the stream cut into `batch`
   * contiguous columns, read in windows of `bptt` steps with the state carried across them (`stateful`, the
   * default) or reset at each window; `limitBatches` windows at most.
   */
  evaluate(
    ids: ArrayLike<number>,
    o: { batch: number; bptt: number; stateful?: boolean; limitBatches?: number },
  ): { loss: number; tokens: number; perplexity: number } {
    const steps = Math.floor(ids.length / o.batch);
    const col = (b: number, t: number): number => ids[b * steps + t]!;
    let state = this.initialState(o.batch);
    let nll = 0;
    let tokens = 0;
    let windows = 0;
    for (let start = 0; start < steps - 1; start += o.bptt) {
      if (o.limitBatches !== undefined && windows++ >= o.limitBatches) break;
      const length = Math.min(o.bptt, steps - 1 - start);
      if (o.stateful === false) {
        disposeState(state);
        state = this.initialState(o.batch);
      }
      for (let t = start; t < start + length; t++) {
        const x = tf.tensor1d(
          Array.from({ length: o.batch }, (_, b) => col(b, t)),
          "int32",
        );
        const y = tf.tensor1d(
          Array.from({ length: o.batch }, (_, b) => col(b, t + 1)),
          "int32",
        );
        const s = this.step(x, state);
        const loss = tf.tidy(() => {
          const logp = tf.logSoftmax(s.logits);
          return tf.neg(tf.sum(tf.mul(logp, tf.oneHot(y, logp.shape[1]))));
        });
        nll += loss.dataSync()[0]!;
        tf.dispose([x, y, s.logits, loss]);
        disposeState(state);
        state = s.state;
        tokens += o.batch;
      }
    }
    disposeState(state);
    const loss = nll / Math.max(tokens, 1);
    return { loss, tokens, perplexity: Math.exp(loss) };
  }
}

function disposeState(state: readonly State[]): void {
  for (const s of state) {
    s.h.dispose();
    s.c?.dispose();
  }
}
