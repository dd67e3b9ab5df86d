// MNIST from the original idx files (LeCun et al.), gzip-compressed as published.
//
// idx format: a big-endian header, magic 2051 for images (then count, rows, cols) and 2049 for labels (then count),
// followed by unsigned bytes. Every field is checked: a file that is cut short, swapped with another, or a different
// data set fails here with its name, instead of training on garbage.
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { DataError } from "./data-error.js";
import { ensureDataset, type EnsureOptions } from "./locate.js";

export const MNIST_ROWS = 28;
export const MNIST_COLS = 28;
export const MNIST_PIXELS = MNIST_ROWS * MNIST_COLS;
export const MNIST_CLASSES = 10;

export interface MnistSplit {
  /** count × 784 pixels 0–255, each image row-major (scanline order, as sequential MNIST reads it). */
  readonly images: Uint8Array;
  /** count labels 0–9. */
  readonly labels: Uint8Array;
  readonly count: number;
}

export interface Mnist {
  readonly train: MnistSplit;
  readonly test: MnistSplit;
}

const IMAGES_MAGIC = 2051;
const LABELS_MAGIC = 2049;

export async function loadMnist(root: string, opts: EnsureOptions = {}): Promise<Mnist> {
  const paths = await ensureDataset("mnist", root, opts);
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    readGz(paths.trainImages),
    readGz(paths.trainLabels),
    readGz(paths.testImages),
    readGz(paths.testLabels),
  ]);
  return {
    train: split(
      parseImages(trainImages, paths.trainImages, 60_000),
      parseLabels(trainLabels, paths.trainLabels, 60_000),
    ),
    test: split(parseImages(testImages, paths.testImages, 10_000), parseLabels(testLabels, paths.testLabels, 10_000)),
  };
}

function split(images: Uint8Array, labels: Uint8Array): MnistSplit {
  return { images, labels, count: labels.length };
}

async function readGz(path: string): Promise<Uint8Array> {
  const compressed = await readFile(path);
  try {
    return gunzipSync(compressed);
  } catch (err) {
    throw new DataError(`${path} is not a valid gzip file (${(err as Error).message}); is the download complete?`, {
      cause: err,
    });
  }
}

/** The pixels of an idx3 images file, checked against the expected count and 28×28; a view, not a copy. */
export function parseImages(bytes: Uint8Array, file: string, expectedCount: number): Uint8Array {
  const header = readHeader(bytes, file, IMAGES_MAGIC, 4);
  const [count, rows, cols] = [header[1]!, header[2]!, header[3]!];
  if (count !== expectedCount || rows !== MNIST_ROWS || cols !== MNIST_COLS) {
    throw new DataError(
      `${file}: holds ${count} images of ${rows}×${cols}, expected ${expectedCount} of ${MNIST_ROWS}×${MNIST_COLS}.`,
    );
  }
  return body(bytes, file, 16, count * MNIST_PIXELS);
}

/** The labels of an idx1 labels file, checked against the expected count and the range 0–9; a view, not a copy. */
export function parseLabels(bytes: Uint8Array, file: string, expectedCount: number): Uint8Array {
  const count = readHeader(bytes, file, LABELS_MAGIC, 2)[1]!;
  if (count !== expectedCount) throw new DataError(`${file}: holds ${count} labels, expected ${expectedCount}.`);
  const labels = body(bytes, file, 8, count);
  const bad = labels.findIndex((l) => l >= MNIST_CLASSES);
  if (bad >= 0) throw new DataError(`${file}: label ${bad} is ${labels[bad]}, not a digit 0–9.`);
  return labels;
}

function readHeader(bytes: Uint8Array, file: string, magic: number, fields: number): number[] {
  if (bytes.length < 4 * fields) throw new DataError(`${file}: ${bytes.length} bytes is too short for an idx header.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = Array.from({ length: fields }, (_, i) => view.getUint32(4 * i, false));
  if (header[0] !== magic) {
    const kind = magic === IMAGES_MAGIC ? "images (idx3)" : "labels (idx1)";
    throw new DataError(`${file}: magic number ${header[0]}, expected ${magic} for an MNIST ${kind} file.`);
  }
  return header;
}

function body(bytes: Uint8Array, file: string, offset: number, length: number): Uint8Array {
  if (bytes.length !== offset + length) {
    throw new DataError(`${file}: ${bytes.length} bytes after decompression, expected ${offset + length}.`);
  }
  // A plain Uint8Array over the same memory: gunzipSync gives a Buffer, whose slice() shares memory where
  // Uint8Array's copies, a difference callers should not have to know about.
  return new Uint8Array(bytes.buffer, bytes.byteOffset + offset, length);
}
