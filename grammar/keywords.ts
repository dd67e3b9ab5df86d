// Which words start a statement, per block. Statements need no separator
// (`regularize { ar 5  tar 2 }`), so a bare word in value position ends the
// statement when it is a statement keyword of the enclosing block (or begins
// a line: parser.ts). The compiler's unknown-key checks and their "did you
// mean" suggestions read this same table. It is syntax only; what each key
// means lives in compiler/lower.ts, and test/compiler/lower.test.ts keeps the
// two in step.

export const EXPERIMENT_BLOCK = "experiment";

export const STATEMENT_KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  experiment: ["data", "task", "model", "dropout", "regularize", "train"],
  data: ["batch", "bptt", "eval_batch", "test_batch", "stateful", "level", "vocab", "order", "tokens", "seed", "permutation_seed", "random_crop"],
  model: ["embed", "layers", "init", "recurrent_init", "embed_init", "forget_bias", "tie", "norm", "initial_state_noise"],
  norm: ["on", "gamma", "stats", "momentum", "epsilon"],
  dropout: ["input", "between", "output", "embedding", "recurrent", "weight", "zoneout"],
  regularize: ["ar", "tar", "weight_decay"],
  train: ["epochs", "optimizer", "schedule", "clip", "seed", "loss", "bptt", "divergence"],
};

const ALL = new Set(Object.values(STATEMENT_KEYWORDS).flat());

/**
 * `table[key]` when `key` is one of the table's own entries, else undefined. Every lookup by a word a user wrote goes
 * through it: a plain object also answers `__proto__`, `constructor` or `toString` with Object.prototype's members,
 * and a spec's `toString(8)` or `__proto__ { … }` must be an unknown name, not a crash.
 */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** The statement keywords of the block owned by a statement with key `owner`. */
export function keywordsOf(owner: string): ReadonlySet<string> {
  const keys = own(STATEMENT_KEYWORDS, owner);
  // An unknown block (a misspelled `dropuot { … }`) still parses: any known key ends a statement there.
  return keys ? new Set(keys) : ALL;
}
