// The vocabulary of statement keywords, per block, that the parser is given. Statements need no separator
// (`regularize { ar 5  tar 2 }`), so a bare word in value position ends the statement when it is a statement
// keyword of the enclosing block (or begins a line: parser.ts). The grammar holds no key list of its own: the
// compiler derives the vocabulary from its schema (compiler/schema/) and passes it to `parse`, so one declaration
// of a setting is what makes the parser, the resolver and the checks know it.

export interface Vocabulary {
  /** The block of an experiment's body (`experiment`). */
  readonly root: string;
  /** Block name → the keys that may start a statement in it. A nested block is named by its owner's key. */
  readonly keywords: Readonly<Record<string, readonly string[]>>;
}

/**
 * `table[key]` when `key` is one of the table's own entries, else undefined. Every lookup by a word a user wrote goes
 * through it: a plain object also answers `__proto__`, `constructor` or `toString` with Object.prototype's members,
 * and a spec's `toString(8)` or `__proto__ { … }` must be an unknown name, not a crash.
 */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

const cache = new WeakMap<
  Vocabulary,
  { readonly all: ReadonlySet<string>; readonly byBlock: Map<string, ReadonlySet<string>> }
>();

/** The statement keywords of the block owned by a statement with key `owner`. */
export function keywordsOf(vocabulary: Vocabulary, owner: string): ReadonlySet<string> {
  let c = cache.get(vocabulary);
  if (!c) cache.set(vocabulary, (c = { all: new Set(Object.values(vocabulary.keywords).flat()), byBlock: new Map() }));
  const keys = own(vocabulary.keywords, owner);
  // An unknown block (a misspelled `dropuot { … }`) still parses: any known key ends a statement there.
  if (!keys) return c.all;
  let set = c.byBlock.get(owner);
  if (!set) c.byBlock.set(owner, (set = new Set(keys)));
  return set;
}
