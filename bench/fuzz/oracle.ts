// What every fuzz case must satisfy (issue 14), whatever its input: exit 0, 1 or 2 (never 3, a signal or a hang);
// no stack trace and no error dump from Node; every diagnostic located (`--> file:line:col`, as render.ts prints
// it); an exit 1 that says why, an exit 2 that says something. Each broken rule is a failure with a `class`: the
// rule and a normalized message, so that a thousand cases of one bug count as one class.

/** What one run of a case gave: in-process (runCli in the worker) or through the real binary. */
export interface RunOutput {
  /** The exit code; null when killed by a signal or by the time limit. */
  readonly code: number | null;
  readonly signal?: string | null;
  readonly timedOut?: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** In-process only: an exception that escaped runCli (the binary's exit 3), with its stack. */
  readonly exception?: { readonly message: string; readonly stack: string };
  /** In-process only: a rejection or exception that surfaced after runCli returned (the binary's exit 3 too). */
  readonly asyncError?: { readonly message: string; readonly stack: string };
  /** In-process only: process.exit(code) called by a command. */
  readonly exitCalled?: number;
}

export interface CaseResult {
  readonly inProcess: RunOutput;
  readonly binary?: RunOutput;
  /** `fmt FILE` cases: fmt --check of the result, and the diagnostic codes of `check` before and after. */
  readonly roundtrip?: {
    readonly recheck: RunOutput;
    readonly before: string[];
    readonly after: string[];
    readonly formatted: string;
  };
  /** The worker died or was killed during the case. */
  readonly crashed?: string;
}

export interface Failure {
  /** The rule and a normalized message: equal for every case of one bug. */
  readonly class: string;
  readonly detail: string;
}

// As test/cli/bad-input.test.ts: a V8 stack frame, or an error printed by Node itself.
export const STACK_FRAME = /^\s+at (?:.+ \(.*:\d+:\d+\)|\S+:\d+:\d+)$/m;
export const NODE_ERROR = /^(?:Uncaught )?(?:[A-Z][A-Za-z]*)?Error(?: \[[A-Z_]+\])?: |node:internal|internal error/m;
// Lines are split at \n only, and `[^\n]` stands for "any character": a user's U+2028 is not a line end here.
const HEADER = /^(error|warning)\[([A-Z]\d{4})\]: ([^\n]*)$/;
const LOCATED = /^ *--> [^\n]+:\d+:\d+$/;
const NAMED = /^ *--> [^\n]+$/;
/**
 * What no line of stderr may hold raw (without color, as the fuzz runs): a line terminator other than \n, a control
 * character (ESC included), a bidi or invisible character. User text reaches the terminal through terminalText
 * (compiler/terminal-text.ts), which escapes them.
 */
const RAW_CONTROL =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/;

/** A message without what changes from case to case: paths, numbers, quoted text. */
export function normalize(s: string): string {
  return s
    .replace(/'[^']*'/g, "'…'")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/(?:\/[^\s:'",)]+)+/g, "PATH")
    .replace(/\d+/g, "N")
    .slice(0, 160);
}

/** The first frame of a stack that is rnnc's own code (dist/…): where the bug is. */
export function topFrame(stack: string): string {
  const m = /\n\s+at (?:.*? \()?[^\n]*?\/dist\/((?:compiler|grammar|runtime)\/[^:\n]+):\d+:\d+\)?/.exec(stack);
  return m ? m[1]!.replace(/\.js$/, ".ts") : "?";
}

function checkOutput(r: RunOutput, where: string, command: string, out: Failure[]): void {
  const text = `${r.stderr}\n${r.stdout}`;
  const first = (s: string): string => s.split("\n").find((l) => l.trim()) ?? "";
  if (r.exception)
    out.push({
      class: `${where}: internal error (exception in ${topFrame(r.exception.stack)}): ${normalize(r.exception.message)}`,
      detail: r.exception.stack,
    });
  if (r.asyncError)
    out.push({
      class: `${where}: unhandled async error (${topFrame(r.asyncError.stack)}): ${normalize(r.asyncError.message)}`,
      detail: r.asyncError.stack,
    });
  if (r.timedOut) out.push({ class: `${where}: hang (killed at the time limit)`, detail: text.slice(0, 2000) });
  else if (r.signal) out.push({ class: `${where}: killed by ${r.signal}`, detail: text.slice(0, 2000) });
  else if (r.code === 3)
    out.push({ class: `${where}: exit 3: ${normalize(first(r.stderr))}`, detail: text.slice(0, 4000) });
  else if (r.code !== 0 && r.code !== 1 && r.code !== 2 && !r.exception)
    out.push({ class: `${where}: exit ${r.code}`, detail: text.slice(0, 4000) });
  if (r.exitCalled !== undefined)
    out.push({ class: `${where}: process.exit(${r.exitCalled}) inside a command`, detail: text.slice(0, 2000) });
  if (STACK_FRAME.test(text)) out.push({ class: `${where}: stack trace in the output`, detail: text.slice(0, 4000) });
  else if (NODE_ERROR.test(text) && r.code !== 3)
    out.push({
      class: `${where}: a Node error in the output: ${normalize(NODE_ERROR.exec(text)![0])}`,
      detail: text.slice(0, 4000),
    });
  if (r.exception || r.code === null || r.code === 3) return;

  const raw = RAW_CONTROL.exec(r.stderr);
  if (raw)
    out.push({
      class: `${where}: a raw U+${raw[0].charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()} in stderr`,
      detail: r.stderr.slice(Math.max(0, raw.index - 200), raw.index + 200),
    });
  const lines = r.stderr.split("\n");
  let errors = 0;
  lines.forEach((line, i) => {
    const h = HEADER.exec(line);
    if (!h) return;
    if (h[1] === "error") errors++;
    const next = lines[i + 1] ?? "";
    // Only a file that could not be read at all (E0208) has no line to point at; it is named.
    if (!LOCATED.test(next) && !(h[2] === "E0208" && NAMED.test(next)))
      out.push({ class: `${where}: ${h[2]} not located`, detail: `${line}\n${next}` });
    if (/\[object Object\]|(?<!')\bundefined\b(?!')/.test(h[3]!))
      out.push({ class: `${where}: ${h[2]} garbled message`, detail: line });
  });
  if (
    r.code === 1 &&
    errors === 0 &&
    !/^rnnc [a-z]+: \S/m.test(r.stderr) &&
    !(command === "fmt" && /^would reformat /m.test(r.stdout))
  )
    out.push({ class: `${where}: exit 1 without an error message`, detail: text.slice(0, 2000) });
  if (r.code === 2 && !text.trim()) out.push({ class: `${where}: exit 2 without a message`, detail: "" });
  if (r.code === 0 && errors > 0)
    out.push({ class: `${where}: an error reported, but exit 0`, detail: text.slice(0, 2000) });
}

export function verdict(command: string, result: CaseResult): Failure[] {
  const out: Failure[] = [];
  if (result.crashed)
    out.push({ class: `crash: ${normalize(result.crashed.split("\n")[0]!)}`, detail: result.crashed });
  checkOutput(result.inProcess, "in-process", command, out);
  const b = result.binary;
  if (b) {
    checkOutput(b, "binary", command, out);
    const i = result.inProcess;
    if (!i.exception && !b.timedOut && (b.code !== i.code || b.stdout !== i.stdout || b.stderr !== i.stderr))
      out.push({
        class: `in-process and binary differ (exit ${i.code} vs ${b.code})`,
        detail: `in-process:\n${i.stderr}${i.stdout}\nbinary:\n${b.stderr}${b.stdout}`.slice(0, 4000),
      });
  }
  const rt = result.roundtrip;
  if (rt) {
    // `rnnc fmt` rewrote the file: the result must be formatted already, and mean what the input meant.
    if (rt.recheck.code !== 0)
      out.push({
        class: `fmt: its output is not a fixed point (fmt --check exit ${rt.recheck.code})`,
        detail: `${rt.recheck.stderr}${rt.recheck.stdout}\n--- formatted:\n${rt.formatted.slice(0, 2000)}`,
      });
    if (rt.before.join(" ") !== rt.after.join(" "))
      out.push({
        class: `fmt: changes the meaning (check codes ${normalize(rt.before.join(","))} → ${normalize(rt.after.join(","))})`,
        detail: `before: ${rt.before.join(", ")}\nafter: ${rt.after.join(", ")}\n--- formatted:\n${rt.formatted.slice(0, 2000)}`,
      });
  }
  return out;
}
