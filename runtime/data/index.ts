// The data loaders of the runtime: locating and fetching the named data sets, tokenized LM corpora, BPTT batching
// and MNIST. Plain typed arrays out, no tfjs: the generated code turns them into tensors.
export { DataError } from "./data-error.js";
export {
  DATASET_FILES,
  dataRoot,
  ensureDataset,
  ensureFiles,
  sha256File,
  verifyDataset,
  verifyFiles,
  type DatasetId,
  type DatasetSpec,
  type EnsureOptions,
  type FileSpec,
  type SplitOf,
} from "./locate.js";
export {
  EOL,
  EOS,
  loadCorpusFiles,
  loadText8File,
  loadTextCorpus,
  type SplitPaths,
  type TextCorpusOptions,
  type TextDataset,
  type TokenCorpus,
  type Vocabulary,
} from "./text-corpus.js";
export { TEXT8_SYMBOLS } from "./text8.js";
export {
  batchify,
  lmBatch,
  lmWindows,
  sliceRows,
  windowCount,
  type Batched,
  type LmWindow,
  type LmWindowOptions,
} from "./batching.js";
export {
  loadMnist,
  MNIST_CLASSES,
  MNIST_COLS,
  MNIST_PIXELS,
  MNIST_ROWS,
  type Mnist,
  type MnistSplit,
} from "./mnist.js";
