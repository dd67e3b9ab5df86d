// The one catalog of diagnostics. Every message rnnc prints is built here, by a named constructor with a
// stable code; call sites never spell out wording. Codes group by phase:
//   E01xx syntax · E02xx resolve (files, extends, keys) · E03xx check (values, compatibility) · W04xx warnings ·
//   E05xx build (code generation).
import { RESERVED_WORDS, type Span } from "../grammar/index.js";
import { terminalText } from "./terminal-text.js";

export type Severity = "error" | "warning";

/** A place in a file: the path as the compiler host names it, and a span of that file's text. */
export interface Loc {
  readonly file: string;
  readonly span: Span;
}

export interface Related extends Loc {
  readonly message: string;
}

/** A diagnostic; `C` narrows its code (a rule declares the codes it may report, and reports only those). */
export interface Diagnostic<C extends string = DiagCode> extends Loc {
  readonly code: C;
  readonly severity: Severity;
  readonly message: string;
  readonly related: readonly Related[];
  readonly hint?: string;
}

const q = (s: string): string => `'${s}'`;
const orList = (xs: readonly string[]): string =>
  xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} or ${xs[xs.length - 1]}`;
const mean = (s?: string): string | undefined => (s === undefined ? undefined : `did you mean ${q(s)}?`);

/** A related location, when there is one (a setting may come from a default and have no span). */
const noteAt = (loc: Loc | undefined, message: string): Related[] => (loc ? [{ ...loc, message }] : []);

/** Where a stray argument belongs: the statement that takes it, and that statement written with it. */
export interface ArgumentHome {
  readonly statement: string;
  readonly example: string;
  /** The statement, when the block already has it. */
  readonly at?: Loc;
}

/**
 * Every diagnostic is made here, so every user text in a message, a hint or a note (a path, a name, a value) passes
 * through terminalText: a message is one terminal line whatever the user wrote (`rnnc check $'a\nb.rnn'`).
 */
function make<C extends string>(
  code: C,
  severity: Severity,
  at: Loc,
  message: string,
  extra: { related?: Related[]; hint?: string } = {},
): Diagnostic<C> {
  const related = (extra.related ?? []).map((r) => ({ ...r, message: terminalText(r.message) }));
  return {
    code,
    severity,
    file: at.file,
    span: at.span,
    message: terminalText(message),
    related,
    ...(extra.hint ? { hint: terminalText(extra.hint) } : {}),
  };
}

/** `unknown X 'k'; did you mean 'key'?`, or without a near key, the message with `otherwise` as its hint. */
const withSuggestion = <C extends string>(
  code: C,
  at: Loc,
  message: string,
  suggestion: string | undefined,
  otherwise: string,
): Diagnostic<C> =>
  suggestion === undefined
    ? make(code, "error", at, message, { hint: otherwise })
    : make(code, "error", at, `${message}; ${mean(suggestion)}`);

export const Diag = {
  // ── E01xx syntax ────────────────────────────────────────────────────────────────────────────────────────
  unexpectedCharacter: (at: Loc, ch: string) =>
    make("E0100", "error", at, `unexpected character ${JSON.stringify(ch)}`), // make() escapes what JSON leaves (U+2028, bidi)
  unterminatedString: (at: Loc) =>
    make("E0101", "error", at, "unterminated string", { hint: "close it with '\"' on the same line" }),
  unterminatedComment: (at: Loc) =>
    make("E0102", "error", at, "unterminated block comment", { hint: "close it with '*/'" }),
  unexpectedToken: (at: Loc, found: string, expected: readonly string[]) =>
    make(
      "E0103",
      "error",
      at,
      `unexpected ${found === "end of file" ? found : q(found)}` +
        (expected.length ? `; expected ${orList(expected)}` : ""),
      {
        hint: mean(
          closest(
            found,
            RESERVED_WORDS.filter((w) => w !== found),
          ),
        ),
      },
    ),
  nestingTooDeep: (at: Loc, max: number) =>
    make("E0104", "error", at, `nesting deeper than ${max} levels`, {
      hint: "specs are flat; this is probably not a spec",
    }),
  invalidUtf8: (at: Loc, byteOffset: number) =>
    make("E0105", "error", at, `the file is not valid UTF-8 (first bad byte at offset ${byteOffset})`),
  noExperiment: (at: Loc) =>
    make("E0106", "error", at, "the file defines no experiment", {
      hint: "a spec starts with `experiment NAME { … }`",
    }),

  // ── E02xx resolve ───────────────────────────────────────────────────────────────────────────────────────
  extendsCycle: (at: Loc, chain: readonly string[]) =>
    make("E0200", "error", at, `\`extends\` cycle: ${chain.join(" → ")}`),
  extendsFileNotFound: (at: Loc, path: string) =>
    make("E0201", "error", at, `cannot find ${q(path)}`, {
      hint: "`extends` paths are relative to the file that contains them",
    }),
  extendsTargetNotFound: (at: Loc, name: string, file: string, available: readonly string[]) =>
    make("E0202", "error", at, `no experiment ${q(name)} in ${file}`, {
      hint: mean(closest(name, available)) ?? (available.length ? `it defines ${orList(available.map(q))}` : undefined),
    }),
  extendsAmbiguous: (at: Loc, file: string, names: readonly string[]) =>
    make("E0203", "error", at, `${file} defines ${names.length} experiments; say which one to extend`, {
      hint: `write \`extends "${file.split("/").pop()}" ${names[0]}\`; it defines ${orList(names.map(q))}`,
    }),
  duplicateExperiment: (at: Loc, name: string, first: Loc) =>
    make("E0204", "error", at, `experiment ${q(name)} is defined twice`, {
      related: [{ ...first, message: "first defined here" }],
    }),
  // A misspelled key names its suggestion in the message itself: it is the whole answer.
  unknownBlock: (at: Loc, key: string, known: readonly string[]) =>
    withSuggestion(
      "E0205",
      at,
      `unknown block ${q(key)}`,
      closest(key, known),
      `an experiment holds ${orList(known.map(q))}`,
    ),
  /** `home`: where a key that is really an argument of a call belongs (`lr` → `optimizer sgd(lr = 0.5)`). */
  unknownKey: (at: Loc, block: string, key: string, known: readonly string[], home?: ArgumentHome) =>
    home
      ? make("E0206", "error", at, `unknown setting ${q(key)} in ${block}`, {
          hint: `${q(key)} is an argument of \`${home.statement}\`: write \`${home.example}\``,
          related: noteAt(home.at, `\`${home.statement}\` is set here`),
        })
      : withSuggestion(
          "E0206",
          at,
          `unknown setting ${q(key)} in ${block}`,
          closest(key, known),
          `\`${block}\` takes ${orList(known.map(q))}`,
        ),
  duplicateStatement: (at: Loc, key: string, first: Loc) =>
    make("E0207", "error", at, `${q(key)} is set twice in this block`, {
      related: [{ ...first, message: "first set here" }],
    }),
  unreadableFile: (at: Loc, path: string, reason: string) =>
    make("E0208", "error", at, `cannot read ${q(path)}: ${reason}`),
  extendsTooDeep: (at: Loc, max: number) =>
    make("E0209", "error", at, `\`extends\` chain longer than ${max} experiments`, {
      hint: "a spec extends a base that extends a base …; flatten some levels",
    }),

  // ── E03xx check ─────────────────────────────────────────────────────────────────────────────────────────
  typeMismatch: (at: Loc, what: string, expected: string, found: string) =>
    make("E0300", "error", at, `${what} must be ${expected}, not ${found}`),
  probabilityOutOfRange: (at: Loc, what: string, value: number) =>
    make("E0301", "error", at, `${what} is a probability in [0, 1), not ${value}`),
  notPositiveInteger: (at: Loc, what: string, value: number) =>
    make("E0302", "error", at, `${what} must be a positive integer, not ${value}`),
  learningRateNotPositive: (at: Loc, value: number) =>
    make("E0303", "error", at, `the learning rate must be > 0, not ${value}`),
  unknownName: (at: Loc, what: string, name: string, options: readonly string[]) =>
    make("E0304", "error", at, `unknown ${what} ${q(name)}`, {
      hint: mean(closest(name, options)) ?? `expected ${orList(options.map(q))}`,
    }),
  unknownArgument: (at: Loc, callee: string, arg: string, params: readonly string[]) =>
    make("E0305", "error", at, `${callee}() has no argument ${q(arg)}`, {
      hint:
        mean(closest(arg, params)) ?? (params.length ? `it takes ${orList(params.map(q))}` : `it takes no arguments`),
    }),
  missingArgument: (at: Loc, callee: string, arg: string) => make("E0306", "error", at, `${callee}() needs ${q(arg)}`),
  tieSizeMismatch: (at: Loc, embed: number, last: number, embedAt?: Loc) =>
    make(
      "E0307",
      "error",
      at,
      `\`tie\` shares the embedding with the softmax, so the embedding size (${embed}) must equal the last layer's size (${last})`,
      {
        related: noteAt(embedAt, `embedding size ${embed} set here`),
        hint: `make the last layer ${embed} wide, as AWD-LSTM does`,
      },
    ),
  siteIncompatibleWithCell: (at: Loc, site: CellStateSite, cell: CellName) =>
    make(
      "E0308",
      "error",
      at,
      `${CELL_STATE_SITES[site].what} cannot apply to ${A_CELL[cell]} cell: ${A_CELL[cell]} has no cell state c_t${CELL_STATE_SITES[site].fix}`,
    ),
  perStepNormNeedsFixedLength: (at: Loc) =>
    make(
      "E0309",
      "error",
      at,
      "per-step normalization statistics need a fixed sequence length, but BPTT length varies",
      {
        hint: "give the longest step explicitly: `stats per_step(max_steps = N)`; later steps reuse step N's statistics (Cooijmans et al. 2017, §4)",
      },
    ),
  taskDataMismatch: (at: Loc, task: "lm" | "classify", dataset: string) =>
    make(
      "E0310",
      "error",
      at,
      `task ${q(task)} does not fit data set ${q(dataset)}: ${task === "classify" ? `${dataset} has no labels to classify` : `${dataset} is a labelled classification set`}`,
    ),
  parameterMemoryExceeded: (
    at: Loc,
    estimate: string,
    limit: string,
    by: MemoryLimitSource,
    weightsAlone: string | null,
    advice: readonly MemoryAdvice[],
  ) =>
    make(
      "E0311",
      "error",
      at,
      `this model needs about ${estimate} for its parameters and training state, over ${limitText(limit, by)}`,
      { hint: memoryHint(weightsAlone, advice, by) },
    ),
  invalidSweep: (at: Loc, problem: SweepProblem) =>
    make("E0312", "error", at, `invalid sweep: ${sweepProblemText(problem)}`),
  sweepInSet: (at: Loc, experiment: string, file: string, statement: string) =>
    make("E0312", "error", at, "invalid sweep: --set takes one value, and a sweep makes one experiment per value", {
      hint: `sweep in a spec instead: \`experiment ${experiment}_sweep extends "${file}" ${experiment} { ${statement} }\`, then run that file (or FILE#${experiment}_sweep)`,
    }),
  missingSetting: (at: Loc, what: string, example: string) =>
    make("E0313", "error", at, `the experiment sets no ${what}`, { hint: `add, for example, \`${example}\`` }),
  valueOutOfRange: (at: Loc, what: string, value: number, range: ValueRange) =>
    make("E0314", "error", at, `${what} must be ${rangeText(range)}, not ${value}`),
  unexpectedValue: (at: Loc, key: string, shape: string) =>
    make("E0315", "error", at, `unexpected value after ${q(key)}`, { hint: `write it as \`${shape}\`` }),
  unexpectedBlock: (at: Loc, key: string) => make("E0316", "error", at, `${q(key)} takes no block`),
  missingValue: (at: Loc, key: string, shape: string) =>
    make("E0317", "error", at, `${q(key)} needs a value`, { hint: `write it as \`${shape}\`` }),
  duplicateArgument: (at: Loc, callee: string, arg: string) =>
    make("E0318", "error", at, `${callee}() is given ${q(arg)} twice`),
  incompatibleSettings: (at: Loc, conflict: Incompatibility, other?: Loc) =>
    make("E0319", "error", at, incompatibilityText(conflict), { related: noteAt(other, "set here") }),
  batchNormOfOne: (at: Loc, norm?: Loc) =>
    make(
      "E0320",
      "error",
      at,
      "batch norm over a batch of 1: each unit's batch variance is 0, so every normalized value is 0 and the normalized sites pass nothing",
      {
        hint: "use a larger batch, or `norm layer` (Ba et al. 2016), which normalizes each example over its own units",
        related: noteAt(norm, "batch norm is set here"),
      },
    ),

  // ── W04xx warnings: legal, but probably not what was meant ──────────────────────────────────────────────
  betweenWithOneLayer: (at: Loc) => make("W0400", "warning", at, "`between` dropout has no effect with a single layer"),
  regularizerAtZero: (at: Loc, name: string) => make("W0401", "warning", at, `${q(name)} is 0, so it has no effect`),
  perStepRecurrentDropout: (at: Loc) =>
    make(
      "W0402",
      "warning",
      at,
      "a fresh dropout mask on h_{t-1} at every step erases the memory of the recurrence (Zaremba et al. 2014, §3; Gal & Ghahramani 2016)",
      { hint: "use `recurrent P variational` for one mask shared across time" },
    ),
  /** `key`: the setting as written in a spec (`bptt`, `forget_bias`). */
  noEffect: (at: Loc, key: string, reason: NoEffectReason) =>
    make("W0403", "warning", at, `${q(key)} has no effect: ${noEffectText(reason)}`),
  sharedNormStatistics: (at: Loc) =>
    make(
      "W0404",
      "warning",
      at,
      "batch-norm statistics shared across time steps differ from Cooijmans et al. 2017, who keep them per step (§4)",
    ),
  batchNormSmallBatch: (at: Loc, batch: number, minBatch: number, norm?: Loc) =>
    make(
      "W0405",
      "warning",
      at,
      `batch norm of h_{t-1} U or c_t over a batch of ${batch}: statistics of so few examples make the normalization's gradient nearly singular, and through time it explodes (at init, a batch of 2 reached NaN and a batch of 3 gave gradients of 3e14)`,
      {
        hint: `use a batch of ${minBatch} or more, normalize only \`input\`, or use \`norm layer\``,
        related: noteAt(norm, "batch norm is set here"),
      },
    ),
  divergenceOnOneWindow: (at: Loc) =>
    make(
      "W0406",
      "warning",
      at,
      "a divergence rule of one window stops a run at its first window above the limit, and healthy runs have such windows early on (measured: the 4th window of Zaremba et al.'s small PTB model, sgd at lr 1, is 3.4 nats above ln V; the 5th is back below it)",
      { hint: "count 2 or more windows (the default is 20), or use `divergence off`" },
    ),

  // ── E05xx build: a valid spec that code generation cannot (yet) turn into training code ───────────────────
  notYetSupported: (at: Loc, feature: UnsupportedFeature) =>
    make("E0500", "error", at, `${UNSUPPORTED_FEATURES[feature]} is not yet supported by \`rnnc build\``, {
      hint: "the rest of the spec is valid; this technique's training code arrives in a later release",
    }),
} as const;

// ── Typed reasons: what a call site knows, named; the wording lives here ─────────────────────────────────────

type CellName = "lstm" | "gru" | "rnn";
const A_CELL: Readonly<Record<CellName, string>> = { lstm: "an LSTM", gru: "a GRU", rnn: "an RNN" };

/** A site that needs a cell state c_t (E0308). */
export type CellStateSite = "zoneout" | "norm";
const CELL_STATE_SITES: Readonly<Record<CellStateSite, { what: string; fix: string }>> = {
  zoneout: { what: "zoneout of `cell`", fix: "" },
  norm: { what: "normalization of `cell`", fix: "; write `on [input, recurrent]`" },
};

/** The values a number may take (E0314). */
export type ValueRange =
  | { readonly kind: "atMost"; readonly max: number }
  | { readonly kind: "between"; readonly min: number; readonly max: number }
  | { readonly kind: "integerFrom"; readonly min: number; readonly max: number }
  | { readonly kind: "greaterThan"; readonly min: number }
  | { readonly kind: "atLeast"; readonly min: number };

function rangeText(r: ValueRange): string {
  switch (r.kind) {
    case "atMost":
      return `at most ${r.max}`;
    case "between":
      return `between ${r.min} and ${r.max}`;
    case "integerFrom":
      return `an integer from ${r.min} to ${r.max}`;
    case "greaterThan":
      return `> ${r.min}`;
    case "atLeast":
      return `≥ ${r.min}`;
  }
}

/** Why a sweep is refused (E0312). */
export type SweepProblem =
  | { readonly kind: "nested" }
  | { readonly kind: "empty" }
  | { readonly kind: "named" }
  | { readonly kind: "tooMany"; readonly variants: number; readonly max: number };

function sweepProblemText(p: SweepProblem): string {
  switch (p.kind) {
    case "nested":
      return "a sweep cannot contain another sweep";
    case "empty":
      return "it lists no values";
    case "named":
      return "sweep values are positional";
    case "tooMany":
      return `it makes ${p.variants} variants, more than ${p.max}`;
  }
}

/** Two settings that cannot go together (E0319). */
export type Incompatibility =
  | { readonly kind: "tieWithoutLanguageModel" }
  | { readonly kind: "tokensWithoutEmbedding"; readonly dataset: string }
  | { readonly kind: "shuffleWithState" }
  | { readonly kind: "shuffleWithVariableBptt" };

function incompatibilityText(c: Incompatibility): string {
  switch (c.kind) {
    case "tieWithoutLanguageModel":
      return "`tie`: only a language model has an embedding to share with its softmax";
    case "tokensWithoutEmbedding":
      return `\`embed none\`: ${c.dataset} is made of tokens, which need an embedding`;
    case "shuffleWithState":
      return "`shuffle`: shuffled examples are independent, so no state is carried from one to the next (write `stateful false`)";
    case "shuffleWithVariableBptt":
      return "`shuffle`: examples are cut once per epoch at the fixed `bptt` length, which a variable BPTT length redraws every window";
  }
}

/** Why a written setting cannot matter for this experiment (W0403). */
export type NoEffectReason =
  | { readonly kind: "fixedLength"; readonly dataset: string; readonly length: number }
  | { readonly kind: "independentSequences" }
  | { readonly kind: "languageModelStreams" }
  | { readonly kind: "fixedLevel"; readonly dataset: string }
  | { readonly kind: "syntheticCorpus" }
  | { readonly kind: "syntheticSeed" }
  | { readonly kind: "pmnistOnly" }
  | { readonly kind: "layerNormStatistics" }
  | { readonly kind: "noForgetGate" }
  | { readonly kind: "noEmbedding" }
  | { readonly kind: "pixelInputs" }
  | { readonly kind: "classifierLoss" };

function noEffectText(r: NoEffectReason): string {
  switch (r.kind) {
    case "fixedLength":
      return `${r.dataset} sequences are always ${r.length} steps long`;
    case "independentSequences":
      return "classification sequences are independent";
    case "languageModelStreams":
      return "it applies to language-model streams";
    case "fixedLevel":
      return `${r.dataset} has a fixed level`;
    case "syntheticCorpus":
      return "it describes the synthetic corpus";
    case "syntheticSeed":
      return "it seeds the synthetic corpus; the training seed is `train { seed N }`";
    case "pmnistOnly":
      return "only pmnist permutes pixels";
    case "layerNormStatistics":
      return "layer norm keeps no statistics";
    case "noForgetGate":
      return "a tanh RNN has no forget gate";
    case "noEmbedding":
      return "this model has no embedding";
    case "pixelInputs":
      return "pixel inputs are fed to the first layer directly";
    case "classifierLoss":
      return "a classifier's loss is the cross-entropy of each sequence's one label, averaged over the batch";
  }
}

/** What the runtime cannot train yet (E0500); the support rule (checks/support.ts) decides when. */
export type UnsupportedFeature = "initialStateNoiseOfLanguageModel" | "activationRegularizationOfClassifier";
const UNSUPPORTED_FEATURES: Readonly<Record<UnsupportedFeature, string>> = {
  initialStateNoiseOfLanguageModel: "noise on the initial state of a language model",
  activationRegularizationOfClassifier:
    "activation regularization (AR, TAR: Merity et al. 2017) of a sequence classifier",
};

/** Which limit the memory guard applied (E0311). */
export type MemoryLimitSource =
  | { readonly kind: "flag" }
  | { readonly kind: "default" }
  | { readonly kind: "backend"; readonly backend: string; readonly auto: boolean };

/** One computed way to make a model fit (E0311's help). */
export type MemoryAdvice =
  | { readonly kind: "hidden"; readonly cell: string; readonly from: number; readonly to: number }
  | { readonly kind: "optimizer"; readonly optimizer: string; readonly copies: number; readonly saves: string }
  | { readonly kind: "batch"; readonly to: number }
  | { readonly kind: "backend"; readonly backend: string; readonly limit: string; readonly installed: boolean };

const OPTIMIZER_NAMES: Readonly<Record<string, string>> = {
  adam: "Adam",
  rmsprop: "RMSProp",
  sgd: "SGD with momentum",
  ntasgd: "NT-ASGD",
};

function limitText(limit: string, by: MemoryLimitSource): string {
  if (by.kind === "flag") return `the limit of ${limit} given with --max-memory`;
  if (by.kind === "default") return `the default limit of ${limit}`;
  const chosen = by.auto ? ` (the one --backend auto picks here)` : "";
  return by.backend === "wasm"
    ? `the ${limit} heap of the wasm backend${chosen}, which wasm32 cannot exceed`
    : `the ${limit} of memory the ${by.backend} backend${chosen} has on this machine`;
}

function memoryHint(weightsAlone: string | null, advice: readonly MemoryAdvice[], by: MemoryLimitSource): string {
  const ways = advice.map((a) => {
    switch (a.kind) {
      case "hidden":
        return `\`${a.cell}(${a.to})\` instead of ${a.cell}(${a.from}), the widest that fits`;
      case "optimizer":
        return `\`optimizer sgd\`: ${OPTIMIZER_NAMES[a.optimizer] ?? a.optimizer} keeps ${a.copies === 1 ? "a copy" : `${a.copies} more copies`} of the weights (${a.saves})`;
      case "batch":
        return `\`batch ${a.to}\` or less`;
      case "backend":
        return `--backend ${a.backend} (${a.limit} here${a.installed ? "" : "; it needs `npm install @tensorflow/tfjs-node`"})`;
    }
  });
  if (by.kind !== "backend") ways.push("a higher limit with --max-memory");
  const lead = weightsAlone
    ? `the weights with their gradients and optimizer state alone need ${weightsAlone}, so a smaller batch cannot help; `
    : "";
  return `${lead}to fit: ${ways.length ? ways.join("; or ") : "a smaller model"}`;
}

/** Every code of the catalog, as a union ("E0100" | … | "E0500"): a diagnostic's code is one of them. */
export type DiagCode = ReturnType<(typeof Diag)[keyof typeof Diag]>["code"];

import { didYouMean } from "./suggest.js";
const closest = (word: string, options: readonly string[]): string | undefined => didYouMean(word, options);

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === "error");

/** Stable order for output: by file, position, then code. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of ds) {
    const k = `${d.file}\0${d.span.start}\0${d.span.end}\0${d.code}\0${d.message}`;
    if (!seen.has(k)) (seen.add(k), out.push(d));
  }
  return out.sort((a, b) =>
    a.file < b.file
      ? -1
      : a.file > b.file
        ? 1
        : a.span.start - b.span.start || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}
