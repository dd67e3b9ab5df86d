// A minimal WebAssembly binary writer: just what accel/kernels/gemm-wasm.ts needs to emit its kernels at run
// time (one imported memory, functions of i32 parameters, i32/v128 locals, structured loops, SIMD loads, stores
// and arithmetic). Emitting the bytes here keeps the project free of a toolchain (no clang, no wat2wasm) and lets
// the kernel choose its instructions, relaxed-SIMD fused multiply-add included, from what the engine validates.
// Encoding: WebAssembly Core Specification 2.0, chapter 5 (binary format); SIMD opcodes from its §5.4.8, the
// relaxed ones from the relaxed-simd proposal (f32x4.relaxed_madd = 0xfd 0x105).

export const I32 = 0x7f;
export const V128 = 0x7b;
export const F32 = 0x7d;
type ValType = typeof I32 | typeof V128 | typeof F32;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32 range). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const SIMD = 0xfd;

/** One function body, written instruction by instruction. Locals are numbered after the parameters. */
export class Body {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];
  constructor(readonly params: number) {}

  /** A new local of type t; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params + this.locals.length - 1;
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  private simd(opcode: number, ...imm: number[]): this {
    return this.op(SIMD, ...uleb(opcode), ...imm);
  }
  private memarg(align: number, offset: number): number[] {
    return [...uleb(align), ...uleb(offset)];
  }

  get(i: number): this {
    return this.op(0x20, ...uleb(i));
  }
  set(i: number): this {
    return this.op(0x21, ...uleb(i));
  }
  tee(i: number): this {
    return this.op(0x22, ...uleb(i));
  }
  i32(n: number): this {
    return this.op(0x41, ...sleb(n | 0));
  }
  add(): this {
    return this.op(0x6a);
  }
  sub(): this {
    return this.op(0x6b);
  }
  mul(): this {
    return this.op(0x6c);
  }
  shl(): this {
    return this.op(0x74);
  }
  ltS(): this {
    return this.op(0x48);
  }
  geS(): this {
    return this.op(0x4e);
  }
  eqz(): this {
    return this.op(0x45);
  }
  ne(): this {
    return this.op(0x47);
  }
  divU(): this {
    return this.op(0x6e);
  }
  remU(): this {
    return this.op(0x70);
  }
  eq(): this {
    return this.op(0x46);
  }
  and(): this {
    return this.op(0x71);
  }
  leS(): this {
    return this.op(0x4c);
  }
  ltU(): this {
    return this.op(0x49);
  }
  geU(): this {
    return this.op(0x4f);
  }
  /** local[i] += n */
  inc(i: number, n: number | (() => void)): this {
    this.get(i);
    if (typeof n === "number") this.i32(n);
    else n();
    return this.add().set(i);
  }

  /** block … end; `br(0)` inside leaves it. */
  block(body: () => void): this {
    this.op(0x02, 0x40);
    body();
    return this.op(0x0b);
  }
  /** loop … end; `br(0)` inside repeats it. */
  loop(body: () => void): this {
    this.op(0x03, 0x40);
    body();
    return this.op(0x0b);
  }
  /** if … end (consumes an i32 condition). */
  if(then: () => void, otherwise?: () => void): this {
    this.op(0x04, 0x40);
    then();
    if (otherwise) {
      this.op(0x05);
      otherwise();
    }
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c, ...uleb(depth));
  }
  brIf(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }

  f32Load(offset = 0): this {
    return this.op(0x2a, ...this.memarg(2, offset));
  }
  f32Store(offset = 0): this {
    return this.op(0x38, ...this.memarg(2, offset));
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f32Sub(): this {
    return this.op(0x93);
  }
  f32Mul(): this {
    return this.op(0x94);
  }
  f32Max(): this {
    return this.op(0x97);
  }
  /** The i32 on the stack, its bits read as an f32. */
  f32FromBits(): this {
    return this.op(0xbe);
  }
  v128Load(offset = 0): this {
    return this.simd(0x00, ...this.memarg(0, offset));
  }
  v128Store(offset = 0): this {
    return this.simd(0x0b, ...this.memarg(0, offset));
  }
  load32Splat(offset = 0): this {
    return this.simd(0x09, ...this.memarg(2, offset));
  }
  v128Zero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  f32x4Max(): this {
    return this.simd(0xe9);
  }
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  f32x4Lane(lane: number): this {
    return this.simd(0x1f, lane);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  /** a·b + c for a, b, c on the stack (relaxed SIMD: fused where the hardware has FMA). */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }

  encode(): number[] {
    const groups: number[] = [];
    let n = 0;
    for (let i = 0; i < this.locals.length; i++) {
      if (i > 0 && this.locals[i] === this.locals[i - 1]) continue;
      let run = 1;
      while (i + run < this.locals.length && this.locals[i + run] === this.locals[i]) run++;
      groups.push(...uleb(run), this.locals[i]!);
      n++;
    }
    const body = [...uleb(n), ...groups, ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}
const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

/**
 * A module importing `env.memory` (shared when `shared`: then it must declare a maximum, 65 536 pages, the most a
 * 32-bit memory has) and exporting each function, all of type (i32 × params) → ().
 */
export function moduleBytes(
  functions: ReadonlyArray<{ name: string; body: Body }>,
  shared: boolean,
): Uint8Array<ArrayBuffer> {
  const types = [...new Set(functions.map((f) => f.body.params))];
  const typeSec = section(1, [
    ...uleb(types.length),
    ...types.flatMap((p) => [0x60, ...uleb(p), ...new Array<number>(p).fill(I32), 0]),
  ]);
  const limits = shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  const importSec = section(2, [1, ...name("env"), ...name("memory"), 0x02, ...limits]);
  const funcSec = section(3, [
    ...uleb(functions.length),
    ...functions.flatMap((f) => uleb(types.indexOf(f.body.params))),
  ]);
  const exportSec = section(7, [
    ...uleb(functions.length),
    ...functions.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i)]),
  ]);
  const codeSec = section(10, [...uleb(functions.length), ...functions.flatMap((f) => f.body.encode())]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...typeSec,
    ...importSec,
    ...funcSec,
    ...exportSec,
    ...codeSec,
  ]);
}
