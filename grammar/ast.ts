// The syntax tree of a `.rnn` file. It records only what was written: no defaults, no meaning.
// Every node carries a half-open source span [start, end) in UTF-16 offsets of the file text.

export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface Ident {
  readonly kind: "Ident";
  readonly name: string;
  readonly span: Span;
}

export interface NumberLit {
  readonly kind: "Number";
  readonly value: number;
  /** The number exactly as written, so `fmt` keeps `1e-7` as `1e-7`. */
  readonly text: string;
  readonly span: Span;
}

export interface StringLit {
  readonly kind: "String";
  readonly value: string;
  readonly span: Span;
}

/** A bare word in value position: `lm`, `locked`, `true`, `tanh`. */
export interface NameValue {
  readonly kind: "Name";
  readonly name: string;
  readonly span: Span;
}

export interface CallArg {
  readonly name?: Ident;
  readonly value: Value;
  readonly span: Span;
}

/** `sgd(lr = 1.0)`, `lstm(650)`, `sweep(0, 1, 3)`. */
export interface Call {
  readonly kind: "Call";
  readonly callee: Ident;
  readonly args: readonly CallArg[];
  readonly span: Span;
}

export interface ListValue {
  readonly kind: "List";
  readonly items: readonly Value[];
  readonly span: Span;
}

export type Value = NumberLit | StringLit | NameValue | Call | ListValue;

/** `key value* { block }?`: the one statement form of the language. */
export interface Statement {
  readonly kind: "Statement";
  readonly key: Ident;
  readonly values: readonly Value[];
  readonly block?: Block;
  readonly span: Span;
}

export interface Block {
  readonly kind: "Block";
  readonly statements: readonly Statement[];
  readonly span: Span;
}

/** `extends "path.rnn"`, `extends sibling`, or `extends "path.rnn" name`. */
export interface ExtendsClause {
  readonly path?: StringLit;
  readonly name?: Ident;
  readonly span: Span;
}

export interface Experiment {
  readonly kind: "Experiment";
  readonly name: Ident;
  readonly extends?: ExtendsClause;
  readonly body: Block;
  readonly span: Span;
}

export interface Comment {
  readonly text: string;
  readonly span: Span;
}

export interface SpecFile {
  readonly kind: "File";
  readonly experiments: readonly Experiment[];
  /** All comments in source order; `fmt` re-attaches them. */
  readonly comments: readonly Comment[];
  readonly span: Span;
}

export type Node = SpecFile | Experiment | Block | Statement | CallArg | Value | Ident;

export const isCall = (v: Value): v is Call => v.kind === "Call";
export const isName = (v: Value): v is NameValue => v.kind === "Name";
export const isNumber = (v: Value): v is NumberLit => v.kind === "Number";
export const isString = (v: Value): v is StringLit => v.kind === "String";
export const isList = (v: Value): v is ListValue => v.kind === "List";
