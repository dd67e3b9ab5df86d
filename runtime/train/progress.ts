// Training progress. On a TTY: one live line per epoch (bar, loss, perplexity, tok/s, the epoch's ETA and the whole
// run's), redrawn at most every 250 ms and left in place when the epoch ends. Elsewhere (logs, CI): plain lines only, one per epoch.
export interface ProgressSink {
  write(s: string): void;
  readonly isTTY?: boolean;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(r).padStart(2, "0")}s` : `${r}s`;
}

/**
 * The time the rest of a run will take, from what this run has measured: the seconds a step takes now, the steps
 * left in this epoch and in the epochs after it, and a validation after each epoch (and the test at the end) as
 * long as the last one took.
 */
export function runEta(o: {
  readonly secondsPerStep: number;
  readonly stepsLeftThisEpoch: number;
  readonly stepsPerLaterEpoch: number;
  readonly epochsAfter: number;
  /** The last validation's seconds; null before the first (then validations are not counted). */
  readonly validSeconds: number | null;
}): number {
  const steps = o.stepsLeftThisEpoch + o.stepsPerLaterEpoch * o.epochsAfter;
  const evals = o.validSeconds === null ? 0 : o.validSeconds * (o.epochsAfter + 2); // + this epoch's, + the test
  return o.secondsPerStep * steps + evals;
}

export class EpochProgress {
  private last = 0;
  private readonly started = performance.now();

  /** `rest(done, secondsPerStep)`: the whole run's remaining seconds (runEta), shown beside the epoch's ETA. */
  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly total: number,
    private readonly rest?: (done: number, secondsPerStep: number) => number,
  ) {}

  update(done: number, metrics: { loss: number; ppl?: number; accuracy?: number; tokPerSec: number }): void {
    if (!this.sink.isTTY) return;
    const now = performance.now();
    if (now - this.last < 250 && done < this.total) return;
    this.last = now;
    const width = 24;
    const filled = Math.round((done / this.total) * width);
    const perStep = (now - this.started) / 1000 / Math.max(done, 1);
    const eta = perStep * (this.total - done);
    const run = this.rest ? `  run ETA ${formatDuration(this.rest(done, perStep))}` : "";
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    this.sink.write(
      `\r\x1b[2K${this.label} ${bar} ${done}/${this.total}  loss ${metrics.loss.toFixed(3)}  ${metrics.accuracy !== undefined ? `acc ${(100 * metrics.accuracy).toFixed(1)} %` : `ppl ${(metrics.ppl ?? NaN).toFixed(1)}`}  ${Math.round(metrics.tokPerSec)} tok/s  ETA ${formatDuration(eta)}${run}`,
    );
  }

  /** The epoch's summary line, which replaces the live one on a TTY. */
  finish(line: string): void {
    this.sink.write(this.sink.isTTY ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }
}

/**
 * A live line while a split is evaluated (on a TTY only): "validating 120/368 windows  ETA 1m10s", redrawn at most
 * every 250 ms and erased when done, so the epoch's summary line follows as before. The test pass at batch 1 is the
 * slowest part of a small run: without it, the terminal looked stuck.
 */
export class EvalProgress {
  private last = 0;
  private readonly started = performance.now();

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number): void {
    if (!this.sink.isTTY) return;
    const now = performance.now();
    if (now - this.last < 250) return;
    this.last = now;
    const eta = ((now - this.started) / 1000 / Math.max(done, 1)) * (this.total - done);
    this.sink.write(`\r\x1b[2K${this.label} ${done}/${this.total} windows  ETA ${formatDuration(eta)}`);
  }

  end(): void {
    if (this.sink.isTTY && this.last > 0) this.sink.write("\r\x1b[2K");
  }
}
