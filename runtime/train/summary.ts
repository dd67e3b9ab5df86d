// The result lines a run ends with: the final validation and test metric, and for synthetic data how far the
// test perplexity is from the best achievable one.
import { formatDuration } from "./progress.js";

/**
 * The first line of a finished run's summary: how many epochs, how long, where, and the best epoch. A resumed run
 * says how many epochs it resumed after and how long its training took in all (the epochs' own times), since this
 * invocation's time alone covers only the last part.
 */
export function runLine(r: {
  epochs: readonly { seconds: number }[];
  epochsBefore: number;
  seconds: number;
  backend: string;
  bestEpoch: number | null;
}): string {
  const n = r.epochs.length;
  const time =
    r.epochsBefore === 0
      ? `in ${formatDuration(r.seconds)}`
      : `, resumed after ${r.epochsBefore} (this invocation ${formatDuration(r.seconds)}; ${formatDuration(r.epochs.reduce((t, e) => t + e.seconds, 0))} of training in all)`;
  return `${n} epoch${n === 1 ? "" : "s"}${r.epochsBefore === 0 ? " " : ""}${time} on ${r.backend}; best epoch ${r.bestEpoch ?? "-"}`;
}

/** What a language-model run's summary reads of its result (RunResult in train.ts has these fields). */
export interface LmSummaryInput {
  readonly status: "done" | "interrupted";
  readonly runDir: string;
  readonly epochs: readonly { readonly seconds: number }[];
  readonly epochsBefore: number;
  readonly seconds: number;
  readonly backend: string;
  readonly bestEpoch: number | null;
  readonly metric: "perplexity" | "bpc";
  readonly optimalPerplexity: number | null;
  readonly valid: { readonly loss: number } | null;
  readonly test: { readonly loss: number } | null;
}

export function summarize(r: LmSummaryInput): string {
  if (r.status === "interrupted") return `interrupted; the run continues with: rnnc run --resume ${r.runDir}`;
  const value = (loss: number): string =>
    r.metric === "bpc" ? `bpc ${(loss / Math.LN2).toFixed(3)}` : `perplexity ${Math.exp(loss).toFixed(2)}`;
  const lines = [runLine(r)];
  if (r.optimalPerplexity !== null && r.test) {
    const gap = (Math.exp(r.test.loss) / r.optimalPerplexity - 1) * 100;
    lines.push(
      `optimal test perplexity of this corpus ${r.optimalPerplexity.toFixed(2)}; the model is ${gap.toFixed(1)}% above it`,
    );
  }
  if (r.valid && r.test) lines.push(`valid ${value(r.valid.loss)}  test ${value(r.test.loss)}`);
  return lines.join("\n");
}
