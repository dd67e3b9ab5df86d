// The optimizer of `train { optimizer … }` as a call of the runtime's factory of that name.
import type { OptimizerIR } from "../../ir.js";
import { num, type EmitContext } from "./context.js";

export function emitOptimizer(x: EmitContext, o: OptimizerIR): string {
  x.use(o.kind);
  switch (o.kind) {
    case "sgd":
      return `sgd({ lr: ${num(o.lr)}, momentum: ${num(o.momentum)} })`;
    case "adam":
      return `adam({ lr: ${num(o.lr)}, beta1: ${num(o.beta1)}, beta2: ${num(o.beta2)}, epsilon: ${num(o.epsilon)} })`;
    case "rmsprop":
      return `rmsprop({ lr: ${num(o.lr)}, decay: ${num(o.decay)}, momentum: ${num(o.momentum)}, epsilon: ${num(o.epsilon)} })`;
    case "ntasgd":
      return `ntasgd({ lr: ${num(o.lr)}, nonmono: ${o.nonmono} })`;
  }
}
