// Checkpoints: one file holding a JSON header and raw float32 tensors, written atomically (a temp file in the
// same directory, fsync, then rename), so a crash or a kill during a write leaves the previous file intact.
//
// Layout: "RNNCKPT1" | u32 LE header length | header JSON (UTF-8) | zero padding to 4 bytes | float32 LE data.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const MAGIC = "RNNCKPT1";

export interface StoredTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface Checkpoint<M> {
  readonly meta: M;
  readonly tensors: readonly StoredTensor[];
}

export class CheckpointError extends Error {
  override readonly name = "CheckpointError";
  /** Its message is for the user as it stands: the CLI prints it without a stack trace. */
  readonly userFacing = true;
}

export function writeCheckpoint<M>(path: string, ckpt: Checkpoint<M>): void {
  const index: { name: string; shape: readonly number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const t of ckpt.tensors) {
    index.push({ name: t.name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  const header = Buffer.from(JSON.stringify({ meta: ckpt.meta, tensors: index }), "utf8");
  const pad = (4 - ((MAGIC.length + 4 + header.length) % 4)) % 4;
  const head = Buffer.alloc(MAGIC.length + 4 + header.length + pad);
  head.write(MAGIC, 0, "latin1");
  head.writeUInt32LE(header.length, MAGIC.length);
  header.copy(head, MAGIC.length + 4);

  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, head);
    for (const t of ckpt.tensors) writeSync(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path); // atomic on POSIX: readers see the old file or the new one, never a part
}

export function readCheckpoint<M>(path: string): Checkpoint<M> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  if (buf.length < MAGIC.length + 4 || buf.toString("latin1", 0, MAGIC.length) !== MAGIC) throw new CheckpointError(`${path} is not an rnnc checkpoint`);
  const len = buf.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  if (start + len > buf.length) throw new CheckpointError(`${path} is truncated (header)`);
  let header: { meta: M; tensors: { name: string; shape: number[]; offset: number; length: number }[] };
  try {
    header = JSON.parse(buf.toString("utf8", start, start + len));
  } catch {
    throw new CheckpointError(`${path} has a corrupt header`);
  }
  const dataStart = start + len + ((4 - ((start + len) % 4)) % 4);
  const total = header.tensors.reduce((n, t) => n + t.length, 0);
  if (dataStart + total * 4 !== buf.length) throw new CheckpointError(`${path} is truncated or has trailing bytes`);
  // Copy into an aligned buffer: Buffer's pool offset need not be a multiple of 4.
  const all = new Float32Array(total);
  new Uint8Array(all.buffer).set(buf.subarray(dataStart, dataStart + total * 4));
  return {
    meta: header.meta,
    tensors: header.tensors.map((t) => ({ name: t.name, shape: t.shape, data: all.subarray(t.offset, t.offset + t.length) })),
  };
}
