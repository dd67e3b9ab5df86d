// Prints the RESULTS.md table from the runs that examples/results/run.sh made (runs/results/, or the folder given
// as the first argument): for each row, baseline and technique, the final validation and test figures (those of
// the best-validation checkpoint), the best epoch, and the validation curve. Each figure comes from the latest
// finished run of its experiment; a row whose runs are missing or unfinished says so.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2] ?? "runs/results";

const ROWS = [
  { row: 1, pair: "Zaremba: medium LSTM, no dropout vs non-recurrent dropout (PTB)", base: "zaremba_medium_200_no_dropout", tech: "zaremba_medium_200", paper: "dropout wins once the baseline overfits" },
  { row: 2, pair: "Zaremba: non-recurrent vs naive per-step recurrent dropout (PTB)", base: "zaremba_medium_200", tech: "zaremba_medium_200_recurrent_dropout", paper: "recurrent dropout is worse" },
  { row: 3, pair: "Merity Table 3: tied LSTM without vs with AR+TAR (PTB)", base: "merity_200", tech: "merity_200_artar", paper: "78.2 → 72.0 valid" },
  { row: "3b", pair: "the same, at row 1's budget (12 epochs of 60 windows)", base: "merity_200", tech: "merity_200_artar", paper: "(as row 3)", folder: "overfit" },
  { row: 4, pair: "Merity Table 6: tanh RNN without vs with AR+TAR (PTB)", base: "merity_rnn_200", tech: "merity_rnn_200_artar", paper: "the baseline fails to train" },
  { row: 5, pair: "Cooijmans Table 2: LSTM vs BN-LSTM (PTB-char)", base: "cooijmans_ptb_char_lstm_256", tech: "cooijmans_ptb_char_bnlstm_256", paper: "1.38 → 1.32 bpc; BN converges faster" },
  { row: 6, pair: "Cooijmans Table 1: LSTM vs BN-LSTM (pMNIST)", base: "cooijmans_pmnist_lstm_1", tech: "cooijmans_pmnist_bnlstm_1", paper: "90.2 → 95.4 %" },
];

function latestFinished(experiment, folder = "") {
  const dir = join(root, folder, experiment);
  if (!existsSync(dir)) return null;
  for (const ts of readdirSync(dir).sort().reverse()) {
    const file = join(dir, ts, "metrics.jsonl");
    if (!existsSync(file)) continue;
    const metrics = readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
    const final = metrics.find((m) => m.event === "final");
    if (!final) continue;
    // Wall time: from env.json's start to the final record (the run's own clock; other runs shared the machine).
    const started = Date.parse(JSON.parse(readFileSync(join(dir, ts, "env.json"), "utf8")).started);
    const minutes = (statSync(file).mtimeMs - started) / 60_000;
    return { dir: join(dir, ts), final, minutes, epochs: metrics.filter((m) => m.event === "epoch") };
  }
  return null;
}

const fmt = (run) => {
  if (!run) return "not run";
  const f = run.final;
  const v = f.metric === "accuracy" ? (x) => `${(100 * x).toFixed(2)} %` : f.metric === "bpc" ? (x) => x.toFixed(3) : (x) => x.toFixed(1);
  return `${v(f.valid)} / ${v(f.test)} (epoch ${f.bestEpoch}, ${Math.round(run.minutes)} min)`;
};

const curve = (run) => {
  if (!run) return "";
  const f = run.final.metric;
  return run.epochs.map((e) => (f === "bpc" ? (e.validLoss / Math.LN2).toFixed(3) : f === "perplexity" ? Math.exp(e.validLoss).toFixed(0) : (100 * e.validAccuracy).toFixed(1))).join(", ");
};

console.log("| row | pair | paper | baseline valid / test | technique valid / test |");
console.log("|---|---|---|---|---|");
const runs = ROWS.map((r) => ({ ...r, b: latestFinished(r.base, r.folder), t: latestFinished(r.tech, r.folder) }));
for (const r of runs) console.log(`| ${r.row} | ${r.pair} | ${r.paper} | ${fmt(r.b)} | ${fmt(r.t)} |`);
console.log("\nValidation curves, one figure per epoch:");
for (const r of runs) {
  console.log(`- row ${r.row} baseline ${r.base}: ${curve(r.b)}`);
  console.log(`- row ${r.row} technique ${r.tech}: ${curve(r.t)}`);
}
