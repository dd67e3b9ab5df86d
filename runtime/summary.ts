// The result lines a run ends with: the final validation and test metric, and for synthetic data how far the
// test perplexity is from the best achievable one.
import { formatDuration } from "./progress.js";
import type { RunResult } from "./train.js";

export function summarize(r: Omit<RunResult, "summary">): string {
  if (r.status === "interrupted") return `interrupted; the run continues with: rnnc run --resume ${r.runDir}`;
  const value = (loss: number): string => (r.metric === "bpc" ? `bpc ${(loss / Math.LN2).toFixed(3)}` : `perplexity ${Math.exp(loss).toFixed(2)}`);
  const lines = [`${r.epochs.length} epochs in ${formatDuration(r.seconds)} on ${r.backend}; best epoch ${r.bestEpoch ?? "-"}`];
  if (r.optimalPerplexity !== null && r.test) {
    const gap = (Math.exp(r.test.loss) / r.optimalPerplexity - 1) * 100;
    lines.push(`optimal test perplexity of this corpus ${r.optimalPerplexity.toFixed(2)}; the model is ${gap.toFixed(1)}% above it`);
  }
  if (r.valid && r.test) lines.push(`valid ${value(r.valid.loss)}  test ${value(r.test.loss)}`);
  return lines.join("\n");
}
