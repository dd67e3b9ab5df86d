// Training progress. On a TTY: one live line per epoch (bar, loss, perplexity, tok/s, ETA), redrawn at most every
// 250 ms and left in place when the epoch ends. Elsewhere (logs, CI): plain lines only, one per epoch.
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

export class EpochProgress {
  private last = 0;
  private readonly started = performance.now();

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number, metrics: { loss: number; ppl?: number; accuracy?: number; tokPerSec: number }): void {
    if (!this.sink.isTTY) return;
    const now = performance.now();
    if (now - this.last < 250 && done < this.total) return;
    this.last = now;
    const width = 24;
    const filled = Math.round((done / this.total) * width);
    const eta = ((now - this.started) / 1000 / Math.max(done, 1)) * (this.total - done);
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    this.sink.write(
      `\r\x1b[2K${this.label} ${bar} ${done}/${this.total}  loss ${metrics.loss.toFixed(3)}  ${metrics.accuracy !== undefined ? `acc ${(100 * metrics.accuracy).toFixed(1)} %` : `ppl ${(metrics.ppl ?? NaN).toFixed(1)}`}  ${Math.round(metrics.tokPerSec)} tok/s  ETA ${formatDuration(eta)}`,
    );
  }

  /** The epoch's summary line, which replaces the live one on a TTY. */
  finish(line: string): void {
    this.sink.write(this.sink.isTTY ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }
}
