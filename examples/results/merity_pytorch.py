# The PyTorch peer of rnnc's Merity et al. 2017 specs, to tell an rnnc bug from the method when a run diverges:
# a tied 2-layer LSTM or tanh RNN language model on PTB trained as §3.1 "Experiment details" says, with the
# settings given on the command line. Prints the loss and the gradient norm (before clipping) of every window, then
# the validation perplexity over the first --valid-windows windows (eval batch 10, the state carried, as rnnc).
#
#   python3 examples/results/merity_pytorch.py --clip 10 --windows 30            # Table 3, h = 650, the paper's clip
#   python3 examples/results/merity_pytorch.py --cell tanh --hidden 200 --clip 0.25 --alpha 5 --beta 2
#
# As the paper: "All embedding weights were uniformly initialized in the interval [−0.1, 0.1] and all other weights
# were initialized between [−1/√H, 1/√H]" (PyTorch's nn.LSTM/nn.RNN default, biases included: rnnc's biases start
# at 0, so this run also tells whether that difference matters); "The loss was averaged over all examples and
# timesteps" (--loss mean; --loss sum_steps sums over the steps, as Zaremba's code); SGD without momentum, lr 20;
# "L2 weight regularization of 10−7" (SGD's weight_decay: added to the gradient after clipping, as rnnc does);
# AR = α·mean((m ⊙ h)²) on the last layer's dropped output, TAR = β·mean((h_t − h_{t+1})²) on its raw output (§2).
# Usage needs Debian's python3-torch; the data root is RNNC_DATA, else the cache rnnc downloads into.
import argparse, math, os, torch, torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--cell", choices=["lstm", "tanh"], default="lstm")
p.add_argument("--hidden", type=int, default=650)
p.add_argument("--dp", type=float, default=0.5)  # word vectors and the final output
p.add_argument("--dph", type=float, default=0.4)  # between the layers (Table 3, h = 650)
p.add_argument("--alpha", type=float, default=0.0)
p.add_argument("--beta", type=float, default=0.0)
p.add_argument("--lr", type=float, default=20.0)
p.add_argument("--clip", type=float, default=10.0)
p.add_argument("--loss", choices=["mean", "sum_steps"], default="mean")
p.add_argument("--windows", type=int, default=30)
p.add_argument("--valid-windows", type=int, default=100)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()
torch.manual_seed(a.seed)
torch.set_num_threads(a.threads)

data = os.environ.get("RNNC_DATA") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "rnnc", "data"
)
root = os.path.join(data, "ptb")


def read(f):
    return [w for line in open(os.path.join(root, f)) for w in line.split() + ["<eos>"]]


train, valid = read("ptb.train.txt"), read("ptb.valid.txt")
vocab = {w: i for i, w in enumerate(dict.fromkeys(train))}


def batchify(ws, b):  # pytorch word_language_model's batchify: b contiguous columns
    ids = torch.tensor([vocab[w] for w in ws])
    n = len(ids) // b
    return ids[: n * b].view(b, n).t().contiguous()


BPTT, V, H = 35, len(vocab), a.hidden
tr, va = batchify(train, 20), batchify(valid, 10)


class Model(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(V, H)
        make = (lambda: nn.LSTM(H, H)) if a.cell == "lstm" else (lambda: nn.RNN(H, H, nonlinearity="tanh"))
        s.rnns = nn.ModuleList([make() for _ in range(2)])
        s.dec = nn.Linear(H, V)
        s.dec.weight = s.emb.weight  # tied
        nn.init.uniform_(s.emb.weight, -0.1, 0.1)
        nn.init.zeros_(s.dec.bias)

    def forward(s, x, state):
        y = nn.functional.dropout(s.emb(x), a.dp, s.training)
        new = []
        for l, r in enumerate(s.rnns):
            raw, st = r(y, state[l])
            new.append(st)
            y = nn.functional.dropout(raw, a.dph if l == 0 else a.dp, s.training)
        return s.dec(y), new, raw, y


def zeros(b):
    z = lambda: torch.zeros(1, b, H)
    return [(z(), z()) if a.cell == "lstm" else z() for _ in range(2)]


def detach(state):
    return [tuple(t.detach() for t in st) if isinstance(st, tuple) else st.detach() for st in state]


m = Model()
opt = torch.optim.SGD(m.parameters(), lr=a.lr, weight_decay=1e-7)
state = zeros(20)
for w in range(a.windows):
    i = w * BPTT
    x, y = tr[i : i + BPTT], tr[i + 1 : i + 1 + BPTT]
    out, state, raw, dropped = m(x, state)
    state = detach(state)
    ce = nn.functional.cross_entropy(out.view(-1, V), y.reshape(-1))
    loss = ce * (BPTT if a.loss == "sum_steps" else 1)
    loss = loss + a.alpha * dropped.pow(2).mean() + a.beta * (raw[1:] - raw[:-1]).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    norm = nn.utils.clip_grad_norm_(m.parameters(), a.clip).item()
    opt.step()
    print(f"window {w + 1} loss {ce.item():.3f} nats/token, gradient norm {norm:.4g}", flush=True)

m.eval()
state, nll, n = zeros(10), 0.0, 0
with torch.no_grad():
    for i in range(0, min(va.size(0) - 1, a.valid_windows * BPTT), BPTT):
        t = min(BPTT, va.size(0) - 1 - i)
        out, state, _, _ = m(va[i : i + t], state)
        nll += nn.functional.cross_entropy(out.view(-1, V), va[i + 1 : i + 1 + t].reshape(-1), reduction="sum").item()
        n += t * 10
print(f"valid perplexity {math.exp(nll / n):.2f} over {n} tokens", flush=True)
