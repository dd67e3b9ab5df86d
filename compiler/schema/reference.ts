// The settings reference of specs/language.md, rendered from the declarations: one table per block, written between
// marker comments (`<!-- settings:data -->` … `<!-- /settings:data -->`). `npm run docs` rewrites the file, and
// test/compiler/schema.test.ts fails when the committed file differs from what this renders.
import {
  BLOCKS,
  defaultOf,
  settingsOf,
  type BlockName,
  type ParamDecl,
  type Setting,
  type Variants,
} from "./settings.js";

export const REFERENCE_BEGIN = (block: BlockName): string => `<!-- settings:${block} -->`;
export const REFERENCE_END = (block: BlockName): string => `<!-- /settings:${block} -->`;

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** 200 000 and 1e-5, as the prose of the reference writes numbers. */
const number = (n: number): string =>
  Math.abs(n) >= 10_000
    ? n.toLocaleString("en-US").replace(/,/g, " ")
    : n !== 0 && Math.abs(n) < 1e-3
      ? n.toExponential().replace("e+", "e")
      : String(n);

function param(p: ParamDecl): string {
  const d = p.default === undefined ? "" : ` = ${number(p.default)}`;
  return p.list ? `${p.name} = [a, b, …]${d}` : `${p.name}${d}`;
}

export function variantsText(v: Variants): string {
  return Object.entries(v)
    .map(([name, params]) => (params.length === 0 ? `\`${name}\`` : `\`${name}(${params.map(param).join(", ")})\``))
    .join(", ");
}

/** The value column: the shape of the value, as a user writes it. */
function valueText(s: Setting): string {
  if (s.valueText !== undefined) return s.valueText;
  switch (s.shape.kind) {
    case "number":
      return s.shape.range.text;
    case "flag":
      return "`[true | false]`";
    case "word":
      return s.shape.options.map((o) => `\`${o}\``).join(" | ");
    case "call":
      return variantsText(s.shape.variants);
    case "block":
    case "custom":
      // `layers N CELL  or  layers [CELL, …]` → `N CELL` or `[CELL, …]`
      return `\`${s.syntax.slice(s.key.length + 1).replace(`  or  ${s.key} `, "` or `")}\``;
  }
}

function defaultText(s: Setting): string {
  if (s.default === "required") return "required";
  if (s.defaultText !== undefined) return s.defaultText;
  const d = defaultOf(s);
  return typeof d === "number"
    ? number(d)
    : d === null
      ? "none"
      : typeof d === "object"
        ? JSON.stringify(d)
        : String(d);
}

function meaningText(s: Setting): string {
  const only = s.only ? ` (${s.only} only)` : "";
  const paper = s.paper ? ` — ${s.paper}` : "";
  return `${s.meaning}${only}${paper}`;
}

/** The markdown table of one block's settings. */
export function renderBlock(block: BlockName): string {
  const rows = settingsOf(block).map(
    (s) => `| \`${s.key}\` | ${cell(valueText(s))} (${cell(defaultText(s))}) | ${cell(meaningText(s))} |`,
  );
  return ["| key | value (default) | meaning |", "|---|---|---|", ...rows].join("\n");
}

/** Every block's table, keyed by block. */
export function renderReference(): ReadonlyMap<BlockName, string> {
  return new Map(BLOCKS.map((b) => [b, renderBlock(b)]));
}

/**
 * `markdown` with the text between each block's markers replaced by its rendered table. A block whose markers are
 * missing is an error (the reference would silently lose it).
 */
export function updateReference(markdown: string): string {
  let out = markdown;
  for (const [block, table] of renderReference()) {
    const begin = REFERENCE_BEGIN(block);
    const end = REFERENCE_END(block);
    const i = out.indexOf(begin);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`the settings reference has no markers ${begin} … ${end}`);
    out = `${out.slice(0, i + begin.length)}\n${table}\n${out.slice(j)}`;
  }
  return out;
}
