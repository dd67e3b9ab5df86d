// The embedding of a language model, with embedding dropout when set (Gal & Ghahramani 2016: whole word types are dropped).
import type { CodeBlockWriter } from "ts-morph";
import { num, type EmitContext } from "./context.js";

export function emitEmbedding(x: EmitContext, w: CodeBlockWriter): void {
  x.use("Embedding");
  const init = x.init(x.e.model.embedInit);
  w.writeLine(`// embed ${x.embed} ${x.at("model.embed", "model.embedInit.kind")}`);
  const pe = x.e.dropout.embedding.p;
  if (pe > 0) {
    w.writeLine(
      `// dropout embedding ${num(pe)} ${x.at("dropout.embedding.p")}: drops whole word types (rows of E), one mask per window`,
    );
    w.writeLine(`this.embedding = new Embedding(params, "embedding", vocab, ${x.embed}, ${init}, ${num(pe)});`);
  } else w.writeLine(`this.embedding = new Embedding(params, "embedding", vocab, ${x.embed}, ${init});`);
}
