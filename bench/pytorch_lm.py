#!/usr/bin/env python3
"""The PyTorch CPU peer of `npm run bench`: the same 2-layer LSTM language model and training step as the
generated code for examples/zaremba-2014/{small,medium}.rnn (Zaremba et al. 2014): embedding → LSTM ×2 → softmax,
cross-entropy summed over the BPTT steps and averaged over the batch, SGD with global-norm clipping at 5,
truncated BPTT with the state carried and detached. Random tokens: throughput does not depend on the data.

Prints one JSON object: {"tok_s": median over timed windows, "rss_mb": peak RSS, "threads": …, "torch": …}.
Exits 3 (and prints {"error": …}) when torch is missing, so the caller can report null.
"""
import argparse, json, resource, statistics, sys, time

try:
    import torch
    import torch.nn as nn
except ImportError as e:  # the caller reports pytorch_tok_s: null
    print(json.dumps({"error": f"python3-torch is not installed ({e})"}))
    sys.exit(3)

p = argparse.ArgumentParser()
p.add_argument("--hidden", type=int, required=True)
p.add_argument("--bptt", type=int, required=True)
p.add_argument("--batch", type=int, default=20)
p.add_argument("--vocab", type=int, default=10000)
p.add_argument("--layers", type=int, default=2)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--windows", type=int, default=10)
p.add_argument("--dropout", type=float, default=0.0, help="Zaremba's vertical dropout: input, between, output")
p.add_argument("--threads", type=int, default=0, help="0: torch's default")
a = p.parse_args()
if a.threads:
    torch.set_num_threads(a.threads)
torch.manual_seed(0)


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(a.vocab, a.hidden)
        self.drop = nn.Dropout(a.dropout)
        self.rnn = nn.LSTM(a.hidden, a.hidden, a.layers, dropout=a.dropout)  # between the layers
        self.out = nn.Linear(a.hidden, a.vocab)
        for w in self.parameters():
            nn.init.uniform_(w, -0.1, 0.1)

    def forward(self, x, state):
        y, state = self.rnn(self.drop(self.emb(x)), state)
        return self.out(self.drop(y)), state


model = LM()
opt = torch.optim.SGD(model.parameters(), lr=1.0)
loss_fn = nn.CrossEntropyLoss(reduction="sum")
g = torch.Generator().manual_seed(1)
state = tuple(torch.zeros(a.layers, a.batch, a.hidden) for _ in range(2))
times = []
for k in range(a.warmup + a.windows):
    x = torch.randint(a.vocab, (a.bptt, a.batch), generator=g)
    y = torch.randint(a.vocab, (a.bptt, a.batch), generator=g)
    t0 = time.perf_counter()
    state = tuple(s.detach() for s in state)  # truncated BPTT
    logits, state = model(x, state)
    loss = loss_fn(logits.view(-1, a.vocab), y.view(-1)) / a.batch  # summed over steps, mean over the batch
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    loss.item()
    if k >= a.warmup:
        times.append(time.perf_counter() - t0)

print(json.dumps({
    "tok_s": a.bptt * a.batch / statistics.median(times),
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "threads": torch.get_num_threads(),
    "torch": torch.__version__,
}))
