// Batching a token stream for truncated BPTT, as the reference code does.
//
// Both references cut the stream into `batch` contiguous pieces, one per column, and walk down them in windows of
// `bptt` rows, so row t+1 of a column continues row t and a stateful model can carry its hidden state from one window
// to the next:
// - pytorch/examples word_language_model: `batchify` = `data[:nbatch * bsz].view(bsz, -1).t()`, then `get_batch(i)`
//   takes `seq_len = min(bptt, len(source) - 1 - i)` rows as input and the same rows shifted down by one as target,
//   for i in range(0, len(source) - 1, bptt); the last window is shorter.
// - Zaremba's TF `reader.ptb_producer`: `reshape(raw[0 : batch * batch_len], [batch, batch_len])`, x = columns
//   [i*num_steps, (i+1)*num_steps), y = the same shifted by one; `epoch_size = (batch_len - 1) // num_steps`, so it
//   drops the last, shorter window (`dropLast`). Its layout is the transpose of pytorch's, the windows are the same.
// Evaluation batches the valid and test streams the same way with its own batch size (eval_batch, test_batch), and
// walks all windows including the short last one (pytorch's `evaluate`), so every token but the first of each
// column is scored.
import type { Rng } from "../base/rng.js";
import { DataError } from "./data-error.js";

export interface Batched {
  /** `[steps, batch]` row-major: data[t * batch + b] is token t of column b. */
  readonly data: Int32Array;
  readonly steps: number;
  readonly batch: number;
}

export interface LmWindow {
  /** The first input row; the targets start one row later. */
  readonly start: number;
  /** Rows of input (and of target). */
  readonly length: number;
}

export interface LmWindowOptions {
  /**
   * The first row: Cooijmans et al. (2017) start each epoch at a random offset in [0, bptt) so that window boundaries
   * fall at different places from epoch to epoch (the spec's `random_crop`). Default 0.
   */
  readonly offset?: number;
  /** Drop a last window shorter than bptt, as Zaremba's ptb_producer does. Default false, as pytorch. */
  readonly dropLast?: boolean;
}

/**
 * pytorch's `batchify`: drop the tail that does not fill a whole row, then column b is the contiguous slice
 * ids[b * steps, (b + 1) * steps). A stream too short to give every column an input and a target (2 rows) is a
 * DataError rather than an empty epoch whose loss would be 0/0.
 */
export function batchify(ids: Int32Array, batch: number): Batched {
  if (!Number.isInteger(batch) || batch < 1)
    throw new RangeError(`batchify: batch must be an integer ≥ 1, got ${batch}`);
  const steps = Math.floor(ids.length / batch);
  if (steps < 2) {
    throw new DataError(
      `A split of ${ids.length} tokens is too short for batch size ${batch}: each column needs at least 2 tokens.`,
    );
  }
  const data = new Int32Array(steps * batch);
  for (let b = 0; b < batch; b++) {
    const column = ids.subarray(b * steps, (b + 1) * steps);
    for (let t = 0; t < steps; t++) data[t * batch + b] = column[t]!;
  }
  return { data, steps, batch };
}

/**
 * The BPTT windows over the rows of `b`: inputs are rows [start, start + length) and targets rows
 * [start + 1, start + 1 + length), so no window reads past row steps - 1.
 */
export function lmWindows(b: Batched, bptt: number, opts: LmWindowOptions = {}): Iterable<LmWindow> {
  const { offset = 0, dropLast = false } = opts;
  // Checked here, not inside the generator, so a bad value fails at the call and not at the first iteration.
  if (!Number.isInteger(bptt) || bptt < 1) throw new RangeError(`lmWindows: bptt must be an integer ≥ 1, got ${bptt}`);
  if (!Number.isInteger(offset) || offset < 0)
    throw new RangeError(`lmWindows: offset must be an integer ≥ 0, got ${offset}`);
  // An iterable rather than a generator object, so the same windows can be walked again (each epoch).
  return {
    *[Symbol.iterator]() {
      for (let start = offset; start < b.steps - 1; start += bptt) {
        const length = Math.min(bptt, b.steps - 1 - start);
        if (dropLast && length < bptt) return;
        yield { start, length };
      }
    },
  };
}

/** How many windows lmWindows yields: the number of batches in an epoch. */
export function windowCount(b: Batched, bptt: number, opts: LmWindowOptions = {}): number {
  const { offset = 0, dropLast = false } = opts;
  const rows = Math.max(0, b.steps - 1 - offset);
  return dropLast ? Math.floor(rows / bptt) : Math.ceil(rows / bptt);
}

/** Rows [start, start + length) as a `[length, batch]` row-major block: a view into b.data, not a copy. */
export function sliceRows(b: Batched, start: number, length: number): Int32Array {
  if (start < 0 || length < 0 || start + length > b.steps) {
    throw new RangeError(`sliceRows: rows [${start}, ${start + length}) are outside [0, ${b.steps})`);
  }
  return b.data.subarray(start * b.batch, (start + length) * b.batch);
}

/** The input and target blocks of one window (pytorch's get_batch), each `[length, batch]` row-major. */
export function lmBatch(b: Batched, w: LmWindow): { readonly input: Int32Array; readonly target: Int32Array } {
  return { input: sliceRows(b, w.start, w.length), target: sliceRows(b, w.start + 1, w.length) };
}

/**
 * The batches of one epoch of `shuffle` training: Cooijmans et al. (2017), §5.2: "we segment the training sequence
 * into examples of length 100. The training sequence does not cleanly divide by 100, so for each epoch we randomly
 * crop a subsequence that does and segment that instead"; their code batches the examples in a random order (Fuel's
 * ShuffledScheme) and starts each from the initial state. Example k reads tokens [offset + k·bptt,
 * offset + (k+1)·bptt]: the first bptt are its inputs, the last bptt its targets, so consecutive examples share one
 * token as consecutive windows do and every token but the first is a target once. Each batch holds `batch` examples'
 * start positions; the last, partial batch is dropped (a fresh shuffle drops different examples every epoch) so that
 * every step has the batch size the model's state and batch norm's statistics were built for.
 */
export function shuffledExamples(tokens: number, bptt: number, batch: number, offset: number, rng: Rng): Int32Array[] {
  if (!Number.isInteger(bptt) || bptt < 1)
    throw new RangeError(`shuffledExamples: bptt must be an integer ≥ 1, got ${bptt}`);
  if (!Number.isInteger(batch) || batch < 1)
    throw new RangeError(`shuffledExamples: batch must be an integer ≥ 1, got ${batch}`);
  const examples = Math.max(0, Math.floor((tokens - 1 - offset) / bptt));
  if (examples < batch) {
    throw new DataError(
      `A split of ${tokens} tokens holds ${examples} examples of ${bptt} + 1 tokens, fewer than one batch of ${batch}.`,
    );
  }
  const order = rng.permutation(examples);
  const out: Int32Array[] = [];
  for (let i = 0; i + batch <= examples; i += batch)
    out.push(order.subarray(i, i + batch).map((k) => offset + k * bptt));
  return out;
}

/** `length` rows from each example start (+ `shift`: 1 for the targets) as a `[length, batch]` row-major block. */
export function exampleRows(ids: Int32Array, starts: Int32Array, length: number, shift: number): Int32Array {
  const B = starts.length;
  const out = new Int32Array(length * B);
  for (let b = 0; b < B; b++) {
    const from = starts[b]! + shift;
    if (from < 0 || from + length > ids.length)
      throw new RangeError(`exampleRows: tokens [${from}, ${from + length}) are outside [0, ${ids.length})`);
    for (let t = 0; t < length; t++) out[t * B + b] = ids[from + t]!;
  }
  return out;
}
