// `rnnc sample`: text from a trained language model. The checkpoint's weights (NT-ASGD: its averaged ones, as
// evaluation uses them) in evaluation mode (no dropout; batch norm with its population statistics); the prime text,
// if any, is read first; each next token is drawn from softmax(logits / temperature) with a seeded stream, so the
// same command gives the same text.
//
// The context is framed as in training, so the model never sees a situation it was not trained on:
// - stateful, no per-step statistics: one step at a time, the state carried (truncated BPTT's view of a stream);
// - stateful with batch norm's per-step statistics (step t of a window uses statistics t): windows of `bptt` steps
//   as in training, the state carried from one window to the next, the current window recomputed for each token;
// - stateful false: the last `bptt` tokens from the initial state (every training example started there).
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../base/rng.js";
import { scoped } from "../base/scoped.js";
import { DataError } from "../data/data-error.js";
import { EOL, EOS } from "../data/text-corpus.js";
import { StepContext } from "../model/language-model.js";
import type { LayerState } from "../model/recurrent-layer.js";
import { openCheckpointModel } from "./checkpoint-model.js";
import { disposeState, type Experiment, type LanguageModelData } from "./lm-task.js";
import type { RunOptions, SampleOptions } from "./task.js";

/** How text becomes tokens and back, per data set. */
interface Codec {
  encode(text: string): string[];
  decode(tokens: readonly string[]): string;
  /** The token a text without a prime starts after (a line's end), if the vocabulary has one. */
  readonly start: string | null;
}

export function codecOf(dataset: LanguageModelData["dataset"], level: "word" | "char"): Codec {
  if (dataset === "synthetic")
    return { encode: (t) => t.split(/\s+/).filter(Boolean), decode: (ts) => ts.join(" "), start: null };
  if (level === "word")
    return {
      // one <eos> per line, as the corpora are read (runtime/data/text-corpus.ts)
      encode: (t) =>
        t
          .split("\n")
          .flatMap((line, k, all) => [...line.split(/\s+/).filter(Boolean), ...(k < all.length - 1 ? [EOS] : [])]),
      decode: (ts) =>
        ts
          .map((w) => (w === EOS ? "\n" : `${w} `))
          .join("")
          .replace(/ \n/g, "\n")
          .trimEnd(),
      start: EOS,
    };
  // Mikolov's PTB-char writes a space as "_"; text8 and a user's text keep it
  const space = dataset === "ptb_char" ? "_" : " ";
  return {
    encode: (t) => [...t].filter((c) => c !== "\r").map((c) => (c === "\n" ? EOL : c === " " ? space : c)),
    decode: (ts) => ts.map((c) => (c === EOL ? "\n" : c === space ? " " : c)).join(""),
    start: EOL,
  };
}

/** The ids of `text`; a token the vocabulary lacks is `<unk>` where it has one, else an error naming it. */
function encodePrime(text: string, codec: Codec, ids: ReadonlyMap<string, number>): number[] {
  const unk = ids.get("<unk>");
  return codec.encode(text).map((t) => {
    const id = ids.get(t) ?? unk;
    if (id === undefined)
      throw new DataError(`The prime text has ${JSON.stringify(t)}, which is not in the model's vocabulary.`);
    return id;
  });
}

/** Draws an index from softmax(logits / temperature) with `rng` (the largest first on a tie of the sums). */
export function drawToken(logits: Float32Array, temperature: number, rng: Rng): number {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp((logits[i]! - max) / temperature);
  let u = rng.uniform() * sum;
  for (let i = 0; i < p.length; i++) if ((u -= p[i]!) < 0) return i;
  return p.length - 1;
}

export async function sampleFromCheckpoint(
  exp: Experiment,
  load: () => Promise<LanguageModelData>,
  file: string,
  opts: RunOptions,
  s: SampleOptions,
): Promise<string> {
  const { data, params, model, optimizer } = await openCheckpointModel(exp, load, file, opts);
  const codec = codecOf(data.dataset, data.level);
  const ids = new Map(data.tokens.map((t, i) => [t, i]));
  const primed = s.prime === null ? [] : encodePrime(s.prime, codec, ids);
  const startId = codec.start === null ? undefined : ids.get(codec.start);
  const history: number[] = primed.length ? [...primed] : startId !== undefined ? [startId] : [0];
  const shown = primed.length; // the text shown: the prime, then what is drawn (not the implicit line start)
  const rng = new Rng(s.seed);
  const ctx = new StepContext(false, new Rng(0));
  const { bptt, stateful } = exp.data;

  /** The logits after `tokens`, from `state` (kept); returns them and the state after the last token. */
  const forward = (tokens: readonly number[], state: readonly LayerState[]) =>
    scoped(
      () => {
        const x = tf.tensor2d(Int32Array.from(tokens), [tokens.length, 1], "int32");
        const out = model.forward(x, state, ctx);
        const logits = model.output
          .logits(out.hidden)
          .slice([tokens.length - 1, 0, 0], [1, 1, -1])
          .reshape([-1]) as tf.Tensor1D;
        return { logits, state: out.state };
      },
      (r) => [r.logits, ...r.state.flatMap((l) => [l.h, l.c])],
    );

  await optimizer.withAveraged(
    params.list.map((p) => p.variable),
    async () => {
      const stepwise = stateful && !s.perStepNorm;
      let state = model.initialState(1); // carried: stepwise, or the state at the current window's start
      let windowStart = 0; // per-step norm, stateful: where the current window began in `history`
      let pending: number[] = [...history]; // stepwise: tokens not yet read
      for (let k = 0; k < s.tokens; k++) {
        let step: { logits: tf.Tensor1D; state: LayerState[] };
        if (stepwise) {
          step = forward(pending, state);
          disposeState(state);
          state = step.state;
        } else if (!stateful) {
          step = forward(history.slice(-bptt), state); // from the initial state every time
          disposeState(step.state);
        } else {
          // windows of bptt as in training: move the window on (carrying the state) once it is full
          while (history.length - windowStart > bptt) {
            const full = forward(history.slice(windowStart, windowStart + bptt), state);
            full.logits.dispose();
            disposeState(state);
            state = full.state;
            windowStart += bptt;
          }
          step = forward(history.slice(windowStart), state);
          disposeState(step.state);
        }
        const next = drawToken((await step.logits.data()) as Float32Array, s.temperature, rng);
        step.logits.dispose();
        history.push(next);
        pending = [next];
      }
      disposeState(state);
    },
  );
  optimizer.dispose();
  const tokens = history.slice(history.length - shown - s.tokens).map((i) => data.tokens[i]!);
  return codec.decode(tokens);
}
