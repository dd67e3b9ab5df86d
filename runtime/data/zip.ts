// Just enough of ZIP to read text8.zip (one deflated entry) without a dependency: find the end-of-central-directory
// record, pick the entry from the central directory (whose sizes are reliable even when the local header defers them
// to a data descriptor), and inflate it. No ZIP64, encryption or multi-disk archives: text8 needs none of them.
import * as zlib from "node:zlib";
import { DataError } from "./data-error.js";

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

interface Entry {
  readonly name: string;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

/**
 * The bytes of one file in a ZIP archive: the entry named `want` (matched on its last path component), or the only
 * file entry when `want` is not given or not found. `file` names the archive in errors.
 */
export function readZipEntry(zip: Uint8Array, file: string, want?: string): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const fail: (why: string) => never = (why) => {
    throw new DataError(`${file}: ${why}`);
  };
  // The EOCD record is 22 bytes plus a comment of at most 65535 bytes at the very end.
  let eocd = -1;
  for (let p = zip.length - 22; p >= Math.max(0, zip.length - 22 - 0xffff); p--) {
    if (view.getUint32(p, true) === EOCD) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) fail("not a ZIP archive (no end-of-central-directory record); is the download complete?");
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const entries: Entry[] = [];
  for (let k = 0; k < count; k++) {
    if (p + 46 > zip.length || view.getUint32(p, true) !== CENTRAL) fail("damaged central directory");
    const nameLength = view.getUint16(p + 28, true);
    entries.push({
      name: new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLength)),
      method: view.getUint16(p + 10, true),
      crc: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localOffset: view.getUint32(p + 42, true),
    });
    p += 46 + nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  const files = entries.filter((e) => !e.name.endsWith("/"));
  const entry =
    (want === undefined ? undefined : files.find((e) => e.name.split("/").pop() === want)) ??
    (files.length === 1 ? files[0] : undefined) ??
    fail(
      `expected ${want === undefined ? "a single file" : `an entry "${want}"`}, found: ${files.map((e) => e.name).join(", ") || "none"}`,
    );
  if (entry.size === 0xffffffff || entry.compressedSize === 0xffffffff) fail("ZIP64 archives are not supported");
  const local = entry.localOffset;
  if (local + 30 > zip.length || view.getUint32(local, true) !== LOCAL) fail(`damaged local header of ${entry.name}`);
  const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  const data = zip.subarray(start, start + entry.compressedSize);
  if (data.length !== entry.compressedSize) fail(`${entry.name} is cut short; is the download complete?`);
  let out: Uint8Array;
  if (entry.method === 0) out = data;
  else if (entry.method === 8) {
    try {
      out = zlib.inflateRawSync(data);
    } catch (err) {
      throw new DataError(`${file}: cannot inflate ${entry.name}: ${(err as Error).message}`, { cause: err });
    }
  } else
    return fail(`${entry.name} uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
  if (out.length !== entry.size)
    fail(`${entry.name} inflates to ${out.length} bytes, the directory says ${entry.size}`);
  // zlib.crc32 arrived in Node 20.15; on older 20.x the size check above is the only integrity check.
  const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (crc32 !== undefined && crc32(out) >>> 0 !== entry.crc) fail(`${entry.name} fails its CRC-32 check`);
  return out;
}
