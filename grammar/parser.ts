// The syntactic grammar of `.rnn`, as a chevrotain parser with embedded actions that build the AST directly.
//
//   file       := experiment* EOF
//   experiment := 'experiment' NAME ('extends' (STRING NAME? | NAME))? block
//   block      := '{' statement* '}'
//   statement  := NAME value* block?          -- a bare word that starts a statement is never a value (below)
//   value      := NUMBER | STRING | list | NAME ('(' (arg (',' arg)* ','?)? ')')?
//   list       := '[' (value (',' value)* ','?)? ']'
//   arg        := (NAME '=')? value
//
// Statements need no separator, so the grammar decides where one ends: a NAME in value position starts the next
// statement when it is a statement keyword of the enclosing block, or when it is the first token on its line and no
// `(` follows it (a call). Keys are keys: a misspelled `embbed 200` on its own line is a statement that the
// compiler reports as an unknown setting, not a value of the line before. Numbers, strings, lists and calls stay
// values wherever they are, so a value may still continue on the next line (`layers\n  2 lstm(650)`).
//
// Syntax only: whether `dropout` may hold `zoneout`, or `lr` must be positive, is the compiler's business.
import type { IToken, TokenType } from "chevrotain";
import { EmbeddedActionsParser, EOF } from "./chevrotain.js";
import type * as ast from "./ast.js";
import * as t from "./tokens.js";
import { keywordsOf, type Vocabulary } from "./keywords.js";

/** Deeper nesting than this is refused before parsing, so no input can exhaust the stack. */
export const MAX_NESTING = 64;

export type SyntaxErrorKind =
  "unexpected-character" | "unterminated-comment" | "unterminated-string" | "unexpected-token" | "nesting-too-deep";

export interface SyntaxError {
  readonly kind: SyntaxErrorKind;
  readonly span: ast.Span;
  /** The offending text, for `unexpected-token` and `unexpected-character`. */
  readonly found?: string;
  /** What the grammar would have accepted, in words ("'}'", "a value"). */
  readonly expected?: readonly string[];
}

export interface ParseResult {
  /** Present when the file parsed; absent after the first syntax error. */
  readonly file?: ast.SpecFile;
  readonly errors: readonly SyntaxError[];
}

const spanOf = (tok: IToken): ast.Span => ({ start: tok.startOffset, end: tok.startOffset + (tok.image?.length ?? 0) });
// `?.` because chevrotain runs every rule once with placeholder results while it records the grammar.
const join = (a: ast.Span, b: ast.Span): ast.Span => ({ start: a?.start ?? 0, end: b?.end ?? 0 });

class RnnParser extends EmbeddedActionsParser {
  /** Owners of the enclosing blocks; the top decides which bare words end a statement. */
  private owners: string[] = [];
  /** The keywords of each block, from the compiler (`parse`'s argument). */
  private vocabulary: Vocabulary = { root: "", keywords: {} };
  /** The tokens that are the first on their line (comments are not tokens). */
  private lineFirst: ReadonlySet<IToken> = new Set();

  constructor() {
    super(t.allTokens, { recoveryEnabled: false, maxLookahead: 2 });
    this.performSelfAnalysis();
  }

  public file = this.RULE("file", (): ast.SpecFile => {
    const experiments: ast.Experiment[] = [];
    this.MANY(() => experiments.push(this.SUBRULE(this.experiment)));
    return { kind: "File", experiments, comments: [], span: { start: 0, end: 0 } };
  });

  private experiment = this.RULE("experiment", (): ast.Experiment => {
    const kw = this.CONSUME(t.Experiment);
    const name = this.ident(this.CONSUME(t.Identifier));
    let ext: ast.ExtendsClause | undefined;
    this.OPTION(() => {
      const extTok = this.CONSUME(t.Extends);
      this.OR([
        {
          ALT: () => {
            const pathTok = this.CONSUME(t.StringLiteral);
            const path = this.string(pathTok);
            let target: ast.Ident | undefined;
            this.OPTION2(() => (target = this.ident(this.CONSUME2(t.Identifier))));
            ext = { path, name: target, span: join(spanOf(extTok), (target ?? path).span) };
          },
        },
        {
          ALT: () => {
            const target = this.ident(this.CONSUME3(t.Identifier));
            ext = { name: target, span: join(spanOf(extTok), target.span) };
          },
        },
      ]);
    });
    const body = this.SUBRULE(this.block, { ARGS: [this.vocabulary.root] });
    return { kind: "Experiment", name, extends: ext, body, span: join(spanOf(kw), body.span) };
  });

  private block = this.RULE("block", (owner: string): ast.Block => {
    const open = this.CONSUME(t.LBrace);
    const statements: ast.Statement[] = [];
    this.ACTION(() => this.owners.push(owner));
    this.MANY(() => statements.push(this.SUBRULE(this.statement)));
    this.ACTION(() => this.owners.pop());
    const close = this.CONSUME(t.RBrace);
    return { kind: "Block", statements, span: join(spanOf(open), spanOf(close)) };
  });

  private statement = this.RULE("statement", (): ast.Statement => {
    const key = this.ident(this.CONSUME(t.Identifier));
    const values: ast.Value[] = [];
    this.MANY({
      // A bare word that is a statement keyword here (`ar 5  tar 2`) or begins a line starts the next statement.
      GATE: () => !this.startsStatement(),
      DEF: () => values.push(this.SUBRULE(this.value)),
    });
    let block: ast.Block | undefined;
    this.OPTION(() => (block = this.SUBRULE(this.block, { ARGS: [key.name] })));
    const last = block?.span ?? values[values.length - 1]?.span ?? key.span;
    return { kind: "Statement", key, values, block, span: join(key.span, last) };
  });

  private value = this.RULE("value", (): ast.Value =>
    this.OR([
      { ALT: () => this.number(this.CONSUME(t.NumberLiteral)) },
      { ALT: () => this.string(this.CONSUME(t.StringLiteral)) },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.nameOrCall) },
    ]),
  );

  private nameOrCall = this.RULE("nameOrCall", (): ast.Value => {
    const tok = this.CONSUME(t.Identifier);
    let call: ast.Call | undefined;
    this.OPTION(() => {
      this.CONSUME(t.LParen);
      const args: ast.CallArg[] = [];
      this.OPTION2(() => {
        args.push(this.SUBRULE(this.arg));
        this.MANY(() => {
          this.CONSUME(t.Comma);
          this.OPTION3(() => args.push(this.SUBRULE2(this.arg)));
        });
      });
      const close = this.CONSUME(t.RParen);
      call = { kind: "Call", callee: this.ident(tok), args, span: join(spanOf(tok), spanOf(close)) };
    });
    return call ?? { kind: "Name", name: tok.image, span: spanOf(tok) };
  });

  private arg = this.RULE("arg", (): ast.CallArg => {
    let name: ast.Ident | undefined;
    this.OPTION({
      GATE: () => this.LA(2).tokenType === t.Equals,
      DEF: () => {
        name = this.ident(this.CONSUME(t.Identifier));
        this.CONSUME(t.Equals);
      },
    });
    const value = this.SUBRULE(this.value);
    return { name, value, span: name ? join(name.span, value.span) : value.span };
  });

  private list = this.RULE("list", (): ast.ListValue => {
    const open = this.CONSUME(t.LBracket);
    const items: ast.Value[] = [];
    this.OPTION(() => {
      items.push(this.SUBRULE(this.value));
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.OPTION2(() => items.push(this.SUBRULE2(this.value)));
      });
    });
    const close = this.CONSUME(t.RBracket);
    return { kind: "List", items, span: join(spanOf(open), spanOf(close)) };
  });

  /** Does the next token, in value position, begin a new statement? See the rule at the top of this file. */
  private startsStatement(): boolean {
    const next = this.LA(1);
    if (next.tokenType !== t.Identifier) return false;
    if (keywordsOf(this.vocabulary, this.owners[this.owners.length - 1] ?? this.vocabulary.root).has(next.image))
      return true;
    return this.lineFirst.has(next) && this.LA(2).tokenType !== t.LParen; // `sgd(…)` on a line of its own is a value
  }

  private ident(tok: IToken): ast.Ident {
    return { kind: "Ident", name: tok.image, span: spanOf(tok) };
  }

  private number(tok: IToken): ast.NumberLit {
    return { kind: "Number", value: Number(tok.image), text: tok.image, span: spanOf(tok) };
  }

  private string(tok: IToken): ast.StringLit {
    return { kind: "String", value: unescape(tok.image.slice(1, -1)), span: spanOf(tok) };
  }

  begin(input: IToken[], lineFirst: ReadonlySet<IToken>, vocabulary: Vocabulary): void {
    this.vocabulary = vocabulary;
    this.owners = [vocabulary.root];
    this.lineFirst = lineFirst;
    this.input = input;
  }
}

function unescape(body: string): string {
  return body.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
}

let shared: RnnParser | undefined; // chevrotain parsers are costly to build and meant to be reused

const label = (tt: TokenType): string => t.TOKEN_LABELS[tt.name] ?? tt.name;

/**
 * Lexes and parses one file with the statement keywords of `vocabulary` (the compiler's schema). Never throws: every
 * problem comes back as a located `SyntaxError`.
 */
export function parse(text: string, vocabulary: Vocabulary): ParseResult {
  const lexed = t.lexer.tokenize(text);
  const errors: SyntaxError[] = [];
  for (const e of lexed.errors.slice(0, 1)) {
    errors.push({
      kind: "unexpected-character",
      span: { start: e.offset, end: e.offset + Math.max(1, e.length === 0 ? 1 : Math.min(e.length, 1)) },
      found: text.slice(e.offset, e.offset + 1),
    });
  }
  const tokens: IToken[] = [];
  let depth = 0;
  for (const tok of lexed.tokens) {
    if (tok.tokenType === t.UnterminatedComment) {
      errors.push({ kind: "unterminated-comment", span: { start: tok.startOffset, end: tok.startOffset + 2 } });
      continue;
    }
    if (tok.tokenType === t.UnterminatedString) {
      errors.push({ kind: "unterminated-string", span: spanOf(tok) });
      continue;
    }
    const tt = tok.tokenType;
    if (tt === t.LBrace || tt === t.LParen || tt === t.LBracket) depth++;
    if (tt === t.RBrace || tt === t.RParen || tt === t.RBracket) depth--;
    if (depth > MAX_NESTING && !errors.some((e) => e.kind === "nesting-too-deep")) {
      errors.push({ kind: "nesting-too-deep", span: spanOf(tok) });
    }
    tokens.push(tok);
  }
  if (errors.length > 0) {
    errors.sort((a, b) => a.span.start - b.span.start);
    return { errors: errors.slice(0, 1) };
  }

  const parser = (shared ??= new RnnParser());
  parser.begin(tokens, firstOnLine(text, tokens), vocabulary);
  const file = parser.file();
  const perr = parser.errors[0];
  if (perr) {
    const tok = perr.token;
    const atEof = tok.tokenType === EOF;
    const span = atEof ? { start: text.length, end: text.length } : spanOf(tok);
    return {
      errors: [
        { kind: "unexpected-token", span, found: atEof ? "end of file" : tok.image, expected: expectedOf(perr) },
      ],
    };
  }
  const comments = (lexed.groups["comments"] ?? []).map((c) => ({ text: c.image, span: spanOf(c) }));
  return { file: { ...file, comments, span: { start: 0, end: text.length } }, errors: [] };
}

/** The tokens with a line break (`\n`, as SourceText counts lines) between them and the token before, in whitespace or a comment. */
function firstOnLine(text: string, tokens: readonly IToken[]): Set<IToken> {
  const out = new Set<IToken>();
  let prevEnd = 0;
  for (const tok of tokens) {
    if (text.slice(prevEnd, tok.startOffset).includes("\n")) out.add(tok);
    prevEnd = tok.startOffset + tok.image.length;
  }
  return out;
}

/** Pulls the expected token kinds out of chevrotain's message, in words. */
function expectedOf(err: { name: string; message: string }): string[] {
  // Left over after the last experiment: only another experiment (or nothing) may follow.
  if (err.name === "NotAllInputParsedException") return [label(t.Experiment), label(EOF)];
  const names = new Set<string>();
  for (const m of err.message.matchAll(/-->\s*(\w+)\s*<--|\[([A-Za-z, ]+)\]/g)) {
    for (const n of (m[1] ?? m[2] ?? "").split(/[ ,]+/)) {
      if (n && t.TOKEN_LABELS[n]) names.add(t.TOKEN_LABELS[n]);
    }
  }
  return [...names];
}

export { label as tokenLabel };
