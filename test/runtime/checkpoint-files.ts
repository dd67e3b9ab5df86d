// Byte-level access to checkpoint files for tests that damage them or need the older format: where a tensor's
// bytes lie, and a format-1 file ("RNNCKPT1", before checksums) built from a checkpoint's content, byte for byte
// what rnnc wrote before format 2.
import { readFileSync, writeFileSync } from "node:fs";
import { readCheckpoint, type Checkpoint } from "../../runtime/train/checkpoint.js";

/** The byte offset in `file` (format 2) of element 0 of tensor `name`, and its byte length. */
export function tensorBytes(file: string, name: string): { offset: number; bytes: number } {
  const buf = readFileSync(file);
  const len = buf.readUInt32LE(8);
  const start = 8 + 4 + 32;
  const end = start + len;
  const header = JSON.parse(buf.toString("utf8", start, end)) as {
    tensors: { name: string; offset: number; length: number }[];
  };
  const t = header.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`${file} has no tensor ${name}`);
  return { offset: end + ((4 - (end % 4)) % 4) + t.offset * 4, bytes: t.length * 4 };
}

/** The byte offset of the header JSON of a format-2 file, and its length. */
export function headerBytes(file: string): { offset: number; bytes: number } {
  return { offset: 8 + 4 + 32, bytes: readFileSync(file).readUInt32LE(8) };
}

/** Flip every bit of `count` bytes at `offset`, in place (the file keeps its size). */
export function flipBytes(file: string, offset: number, count = 4): void {
  const buf = readFileSync(file);
  for (let i = offset; i < offset + count; i++) buf[i] = buf[i]! ^ 0xff;
  writeFileSync(file, buf);
}

/** Format 1: "RNNCKPT1" | u32 LE header length | header JSON | zero padding to 4 bytes | float32 LE data. */
export function formatOne<M>(ck: Checkpoint<M>): Buffer {
  const index: { name: string; shape: readonly number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const t of ck.tensors) {
    index.push({ name: t.name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  const header = Buffer.from(JSON.stringify({ meta: ck.meta, tensors: index }), "utf8");
  const pad = (4 - ((12 + header.length) % 4)) % 4;
  const head = Buffer.alloc(12 + header.length + pad);
  head.write("RNNCKPT1", 0, "latin1");
  head.writeUInt32LE(header.length, 8);
  header.copy(head, 12);
  return Buffer.concat([
    head,
    ...ck.tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
  ]);
}

/** Rewrite a checkpoint file in format 1, its metadata changed by `edit` (if given). */
export function toFormatOne<M>(from: string, to: string, edit: (meta: M) => M = (m) => m): void {
  const ck = readCheckpoint<M>(from);
  writeFileSync(to, formatOne({ meta: edit(ck.meta), tensors: ck.tensors }));
}
