// A run's state on disk and back: parameters, buffers and optimizer slots to and from checkpoint tensors, the start
// of a resume (checkpoints verified before anything is written) and of an evaluation (`rnnc eval`), and what a
// run owns and must release however it ends.
import * as tf from "@tensorflow/tfjs";
import { resolve } from "node:path";
import { selectBackend } from "../accel/backend.js";
import {
  CheckpointError,
  formatNote,
  readCheckpoint,
  removeStaleTempFiles,
  RunCheckpoints,
  type Checkpoint,
  type Resumed,
  type StoredTensor,
} from "./checkpoint.js";
import type { ParameterStore } from "../model/parameters.js";
import { TrainingError } from "./errors.js";
import type { Optimizer } from "./optimizers.js";
import type { Owned, RunOptions } from "./task.js";

export type { Owned } from "./task.js";

/** Dispose what a run owns. After a wasm abort (heap exhausted) every call into the module traps: the release then
 *  fails, and must not replace the error that explains why the run ended. */
export function releaseOwned(owned: Owned): void {
  try {
    owned.params?.dispose();
  } catch {
    // the backend is gone with the process; nothing to release
  }
}

/** A tensor read back from the device (asynchronously: the only way the webgpu backend can, in Node). */
export async function stored(name: string, t: tf.Tensor): Promise<StoredTensor> {
  return { name, shape: t.shape, data: (await t.data()) as Float32Array };
}

/** A checkpoint's tensors: the parameters, the buffers (population statistics) and the optimizer's slots. */
export async function storeTensors(params: ParameterStore, opt: Optimizer): Promise<StoredTensor[]> {
  const out: StoredTensor[] = [];
  for (const p of params.list) out.push(await stored(`param/${p.name}`, p.variable));
  for (const p of params.buffers) out.push(await stored(`buffer/${p.name}`, p.variable));
  for (const [k, t] of opt.state().slots) out.push(await stored(`opt/${k}`, t));
  return out;
}

/** Load parameters and buffers by name, refusing a checkpoint of another model. */
export function restoreParams(params: ParameterStore, tensors: readonly StoredTensor[], file: string): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const entries = [
    ...params.list.map((p) => ({ key: `param/${p.name}`, ...p })),
    ...params.buffers.map((p) => ({ key: `buffer/${p.name}`, ...p })),
  ];
  for (const p of entries) {
    const t = byName.get(p.key);
    if (!t || t.shape.join() !== p.variable.shape.join())
      throw new TrainingError(
        `checkpoint ${file} does not match this model: ${p.key.split("/")[0]} ${p.name} ${t ? `has shape [${t.shape}], expected [${p.variable.shape}]` : "is missing"}`,
      );
    p.variable.assign(tf.tensor(t.data, [...t.shape]));
  }
}

/** Restore the optimizer's step, averaging point and slots from a checkpoint. */
export function restoreOptimizer(
  optimizer: Optimizer,
  tensors: readonly StoredTensor[],
  meta: { optimizerStep: number; averagingSince?: number | null },
): void {
  optimizer.load({
    step: meta.optimizerStep,
    averagingSince: meta.averagingSince ?? null,
    slots: tensors
      .filter((t) => t.name.startsWith("opt/"))
      .map((t) => [t.name.slice(4), tf.tensor(t.data, [...t.shape])] as [string, tf.Tensor]),
  });
}

/** Where a checkpoint stands, for the user: "after epoch 13" or "epoch 11, window 1150". */
export function checkpointPosition(epoch: number, next: number, unit = "window"): string {
  return next === 0 ? `after epoch ${epoch - 1}` : `epoch ${epoch}, ${unit} ${next}`;
}

/** The start of an evaluation (`rnnc eval`): the backend, announced, and the checkpoint, if it is this experiment's. */
export async function openForEvaluation<M extends { experiment: string; bestEpoch: number | null }>(
  experiment: string,
  file: string,
  opts: RunOptions,
): Promise<{ ck: Checkpoint<M>; backend: string; started: number }> {
  const started = performance.now();
  const sink = opts.progress ?? process.stderr;
  // Temp files of a write that a kill interrupted: cheap to remove, and safe (only those whose writer is gone).
  removeStaleTempFiles(opts.runDir);
  // The checkpoint first, verified: a wrong or damaged file is reported before a backend is started.
  const ck = readCheckpoint<M>(file);
  if (ck.meta.experiment !== experiment)
    throw new TrainingError(`checkpoint ${file} is from experiment ${ck.meta.experiment}, not ${experiment}`);
  const note = formatNote(file, ck);
  if (note) sink.write(`${note}\n`);
  const ckpts = new RunCheckpoints(opts.runDir);
  // A kill between the two renames of a save leaves best.ckpt one best behind: say so (finishing that save is
  // the next resume's work; eval never changes a run directory).
  const pending = resolve(file) === resolve(ckpts.best) ? ckpts.pendingBest<M>() : null;
  if (pending)
    sink.write(
      `note: the run stopped while saving a newer best checkpoint (epoch ${pending.meta.bestEpoch}); this evaluates ${file} as it is (epoch ${ck.meta.bestEpoch}). rnnc run --resume ${opts.runDir} puts the newer one in place.\n`,
    );
  const backend = await selectBackend(opts.backend ?? "auto", { threads: opts.threads });
  sink.write(`backend: ${backend.description}\n`);
  return { ck, backend: backend.name, started };
}

/**
 * The start of a resumed run, before anything is written: `file` and the run's best checkpoint verified (a damaged
 * one is refused, and nothing in the run directory changes), an interrupted save finished or dropped, the
 * notes for the user printed. Part of the driver (driver.ts), for every task.
 */
export function resumeRun<M extends { experiment: string; bestEpoch: number | null }>(
  ckpts: RunCheckpoints,
  file: string,
  experiment: string,
  say: (line: string) => void,
): Resumed<M> {
  let r: Resumed<M>;
  try {
    r = ckpts.resume<M>(file, (meta) => {
      if (meta.experiment !== experiment)
        throw new TrainingError(`checkpoint ${file} is from experiment ${meta.experiment}, not ${experiment}`);
    });
  } catch (e) {
    if (e instanceof CheckpointError)
      throw new CheckpointError(`${e.message}. Nothing was trained, and no checkpoint was changed.`);
    throw e;
  }
  for (const n of r.notes) say(n);
  return r;
}
