// status.json: what a run directory's run is doing now, for `rnnc runs`. metrics.jsonl says what was measured; it
// cannot say whether the process that writes it is still alive, nor why one stopped without a last line (a kill).
// The driver writes "running" with its process id when training starts (again on each resume) and the outcome when
// it ends: "finished", "stopped" (Ctrl-C), "diverged" (the divergence or NaN stop) or "failed" (an error). A
// "running" status whose process is gone was killed: readers report it as stopped.
import { renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export type RunState = "running" | "finished" | "stopped" | "diverged" | "failed";

export interface RunStatus {
  readonly state: RunState;
  /** The process that trains (or trained) the run, and its machine: a reader elsewhere cannot tell if it lives. */
  readonly pid: number;
  readonly host: string;
  /** When this process started training, and when the status was written (ISO 8601). */
  readonly since: string;
  readonly at: string;
  /** "failed": the error's first line. */
  readonly message?: string;
}

/** Writes the status atomically (a reader sees the old file or the new one); a failure to write never stops a run. */
export function writeStatus(runDir: string, state: RunState, since: string, message?: string): void {
  const status: RunStatus = {
    state,
    pid: process.pid,
    host: hostname(),
    since,
    at: new Date().toISOString(),
    ...(message === undefined ? {} : { message: message.split("\n")[0]!.slice(0, 500) }),
  };
  const file = join(runDir, "status.json");
  try {
    writeFileSync(`${file}.tmp`, JSON.stringify(status, null, 2) + "\n");
    renameSync(`${file}.tmp`, file);
  } catch {
    // a full disk or a read-only folder: the run itself goes on; `rnnc runs` then reads metrics.jsonl alone
  }
}
