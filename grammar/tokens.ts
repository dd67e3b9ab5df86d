// The lexical grammar of `.rnn`. Order matters: chevrotain tries patterns top to bottom.
import type { TokenType } from "chevrotain";
import { createToken, Lexer } from "./chevrotain.js";

export const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\r\n\f\v]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\n]*/, group: "comments" });
export const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*[\s\S]*?\*\//,
  group: "comments",
  line_breaks: true,
});
/** Matches only when no closing `*​/` follows; the parser front end turns it into a located error. */
export const UnterminatedComment = createToken({
  name: "UnterminatedComment",
  pattern: /\/\*[\s\S]*/,
  line_breaks: true,
});
export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"(?:[^"\\\n]|\\.)*"/ });
export const UnterminatedString = createToken({ name: "UnterminatedString", pattern: /"(?:[^"\\\n]|\\.)*/ });
export const NumberLiteral = createToken({ name: "NumberLiteral", pattern: /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/ });
export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
export const Experiment = createToken({ name: "Experiment", pattern: /experiment/, longer_alt: Identifier });
export const Extends = createToken({ name: "Extends", pattern: /extends/, longer_alt: Identifier });
export const LBrace = createToken({ name: "LBrace", pattern: /\{/ });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/ });
export const LParen = createToken({ name: "LParen", pattern: /\(/ });
export const RParen = createToken({ name: "RParen", pattern: /\)/ });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/ });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/ });
export const Comma = createToken({ name: "Comma", pattern: /,/ });
export const Equals = createToken({ name: "Equals", pattern: /=/ });

/** The reserved words, for "did you mean 'experiment'?" on a misspelled one. */
export const RESERVED_WORDS: readonly string[] = [Experiment, Extends].map((tt) => (tt.PATTERN as RegExp).source);

export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  StringLiteral,
  UnterminatedString,
  NumberLiteral,
  Experiment,
  Extends,
  Identifier,
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Equals,
];

/** How a token type is named in "expected …" messages. */
export const TOKEN_LABELS: Readonly<Record<string, string>> = {
  StringLiteral: "a string",
  NumberLiteral: "a number",
  Identifier: "a name",
  Experiment: "'experiment'",
  Extends: "'extends'",
  LBrace: "'{'",
  RBrace: "'}'",
  LParen: "'('",
  RParen: "')'",
  LBracket: "'['",
  RBracket: "']'",
  Comma: "','",
  Equals: "'='",
  EOF: "end of file",
};

export const lexer = new Lexer(allTokens, { positionTracking: "onlyOffset", ensureOptimizations: true });
