// The learning-rate schedule of `train { schedule … }` as a call of the runtime's factory.
import type { ScheduleIR } from "../../ir.js";
import { num, type EmitContext } from "./context.js";

export function emitSchedule(x: EmitContext, s: ScheduleIR): string {
  switch (s.kind) {
    case "constant":
      x.use("constant");
      return "constant()";
    case "decay":
      x.use("decay");
      return `decay({ by: ${num(s.by)}, after: ${s.after} })`;
    case "plateau":
      x.use("plateau");
      return `plateau({ divide: ${num(s.divide)}, patience: ${s.patience} })`;
    case "at_epochs":
      x.use("atEpochs");
      return `atEpochs({ epochs: [${s.epochs.join(", ")}], by: ${num(s.by)} })`;
  }
}
