export * from "./ast.js";
export { parse, MAX_NESTING, type ParseResult, type SyntaxError, type SyntaxErrorKind } from "./parser.js";
export { keywordsOf, own, type Vocabulary } from "./keywords.js";
export { RESERVED_WORDS } from "./tokens.js";
