// What each data set fixes (vocabulary, task, classes, sequence length): the defaults of several settings depend on
// it, and the checks and the resource estimate read it.
import type { Dataset } from "./ir.js";

export interface DatasetFacts {
  readonly level: "word" | "char" | "pixel";
  readonly vocab: number | null;
  readonly task: "lm" | "classify";
  readonly classes: number | null;
  /** Fixed sequence length (pixel MNIST: 28×28). */
  readonly length: number | null;
}

export const DATASET_FACTS: Readonly<Record<Dataset, DatasetFacts>> = {
  ptb: { level: "word", vocab: 10_000, task: "lm", classes: null, length: null },
  ptb_char: { level: "char", vocab: 50, task: "lm", classes: null, length: null },
  wikitext2: { level: "word", vocab: 33_278, task: "lm", classes: null, length: null },
  text8: { level: "char", vocab: 27, task: "lm", classes: null, length: null },
  mnist: { level: "pixel", vocab: null, task: "classify", classes: 10, length: 784 },
  pmnist: { level: "pixel", vocab: null, task: "classify", classes: 10, length: 784 },
  synthetic: { level: "word", vocab: null, task: "lm", classes: null, length: null },
  text: { level: "word", vocab: null, task: "lm", classes: null, length: null },
};
