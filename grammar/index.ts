export * from "./ast.js";
export { parse, MAX_NESTING, type ParseResult, type SyntaxError, type SyntaxErrorKind } from "./parser.js";
export { STATEMENT_KEYWORDS, EXPERIMENT_BLOCK, keywordsOf, own } from "./keywords.js";
export { RESERVED_WORDS } from "./tokens.js";
