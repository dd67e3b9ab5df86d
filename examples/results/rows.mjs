// The rows of RESULTS.md: each a baseline and a technique spec (in this folder), trained with the same seeds and the
// same budget (`flags`, passed to `rnnc run`). run.mjs trains them, table.mjs summarizes them; both read this list.
export const SEEDS = [0, 1, 2];

export const ROWS = [
  {
    row: 1,
    pair: "Zaremba: medium LSTM (h 200), no dropout vs non-recurrent dropout (PTB)",
    base: "zaremba_medium_200_no_dropout",
    tech: "zaremba_medium_200",
    specs: ["zaremba-medium-200-no-dropout", "zaremba-medium-200"],
    flags: ["--train-batches", "60"],
  },
  {
    // Characters, not row 1's words: the phenomenon (a fresh mask on h_{t-1} at every step erases what the state
    // carries) needs a task where memory over many steps matters. At row 1's word-level budget one seed gave +3.0.
    row: 2,
    pair: "Zaremba: non-recurrent vs naive per-step recurrent dropout (PTB-char, h 256, 100 steps)",
    base: "zaremba_char_256",
    tech: "zaremba_char_256_recurrent_dropout",
    specs: ["zaremba-char-256", "zaremba-char-256-recurrent-dropout"],
    flags: ["--train-batches", "300"],
  },
  {
    row: 3,
    pair: "Merity Table 3: tied LSTM (h 200, dp 0.5, dph 0.4) without vs with AR α 5 + TAR β 2 (PTB)",
    base: "merity_table3_200",
    tech: "merity_table3_200_artar",
    specs: ["merity-table3-200", "merity-table3-200-artar"],
    flags: ["--train-batches", "30"],
  },
  {
    row: 4,
    pair: "Merity Table 6: tied tanh RNN (h 200) without vs with AR α 5 + TAR β 2 (PTB)",
    base: "merity_table6_rnn_200",
    tech: "merity_table6_rnn_200_artar",
    specs: ["merity-table6-rnn-200", "merity-table6-rnn-200-artar"],
    flags: ["--train-batches", "120"],
  },
  {
    row: 5,
    pair: "Cooijmans Table 2: LSTM vs BN-LSTM (h 256, PTB-char)",
    base: "cooijmans_ptb_char_lstm_256",
    tech: "cooijmans_ptb_char_bnlstm_256",
    specs: ["cooijmans-ptb-char-lstm-256", "cooijmans-ptb-char-bnlstm-256"],
    flags: ["--train-batches", "150"],
  },
  {
    row: 6,
    pair: "Cooijmans Table 1: LSTM vs BN-LSTM (pMNIST)",
    base: "cooijmans_pmnist_lstm_budget",
    tech: "cooijmans_pmnist_bnlstm_budget",
    specs: ["cooijmans-pmnist-lstm", "cooijmans-pmnist-bnlstm"],
    flags: ["--train-batches", "100"],
  },
];
