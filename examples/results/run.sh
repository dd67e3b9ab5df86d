#!/usr/bin/env bash
# Regenerate the runs behind examples/RESULTS.md: `examples/results/run.sh [ROW…]` (default: every row), from the
# repository root, with RNNC_DATA pointing at the data sets. Every run of a row gets the same budget, seed and
# thread count; `node examples/results/table.mjs` then prints the table from the runs' metrics.
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${THREADS:-1}
RUNS=runs/results
run() { node bin/rnnc.js run "examples/results/$1.rnn" --threads "$THREADS" --runs "$RUNS" "${@:2}"; }
zaremba() { run "$1" --train-batches 60; }
lm() { run "$1" --train-batches 120; }
row() {
  case "$1" in
    1) zaremba zaremba-medium-200-no-dropout; zaremba zaremba-medium-200 ;;
    2) zaremba zaremba-medium-200-recurrent-dropout ;; # its baseline is row 1's zaremba-medium-200
    3) lm merity-200; lm merity-200-artar ;;
    # Row 3 again at row 1's budget (12 epochs of the same 60 windows), where the baseline overfits.
    3b) RUNS=runs/results/overfit; for s in merity-200 merity-200-artar; do run $s --epochs 12 --train-batches 60; done; RUNS=runs/results ;;
    4) lm merity-rnn-200; lm merity-rnn-200-artar ;;
    5) run cooijmans-ptb-char-lstm-256 --train-batches 150; run cooijmans-ptb-char-bnlstm-256 --train-batches 150 ;;
    6) run cooijmans-pmnist-lstm-1 --train-batches 100; run cooijmans-pmnist-bnlstm-1 --train-batches 100 ;;
    *) echo "no row $1 (rows 1–6, 3b)" >&2; exit 2 ;;
  esac
}
for r in "${@:-1 2 3 4 5 6}"; do row $r; done
