# The PyTorch side of RESULTS.md row 4: Merity's tied 2-layer tanh RNN at h = 200 on PTB, lr 20, clip 0.25, per-token
# mean loss, dropout 0.5 at the input, between the layers and at the output, weight decay 1e-7; the first 120
# windows each epoch: the settings of RESULTS.md's first row-4 runs (dropout 0.5 everywhere, α 2, β 1), before the
# specs took Table 6's dph 0.4 and α 5, β 2. Usage (python3-torch):
#   python3 examples/results/row4_pytorch.py ALPHA BETA     # 0 0: the baseline; 2 1: with AR and TAR
# AR = α·mean((m ⊙ h)²) on the last layer's dropped output, TAR = β·mean((h_t − h_{t+1})²) on its raw output.
import math, os, sys, torch, torch.nn as nn
torch.manual_seed(0); torch.set_num_threads(1)
ar, tar = float(sys.argv[1]), float(sys.argv[2])
# The data root as rnnc finds it: RNNC_DATA, else the per-user cache rnnc downloads into.
data = os.environ.get("RNNC_DATA") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "rnnc", "data")
root = os.path.join(data, "ptb") + "/"
def read(f):
    return [w for line in open(root + f) for w in line.split() + ["<eos>"]]
train, valid = read("ptb.train.txt"), read("ptb.valid.txt")
vocab = {w: i for i, w in enumerate(dict.fromkeys(train))}
def batchify(ws, B):
    ids = torch.tensor([vocab[w] for w in ws]); n = len(ids) // B
    return ids[: n * B].view(B, n).t().contiguous()
tr, va = batchify(train, 20), batchify(valid, 20)
V, H = len(vocab), 200
class M(nn.Module):
    def __init__(s):
        super().__init__(); s.emb = nn.Embedding(V, H); s.rnns = nn.ModuleList([nn.RNN(H, H, nonlinearity="tanh") for _ in range(2)])
        s.dec = nn.Linear(H, V); s.dec.weight = s.emb.weight; s.drop = nn.Dropout(0.5)
        nn.init.uniform_(s.emb.weight, -0.1, 0.1); nn.init.zeros_(s.dec.bias)
    def forward(s, x, h):
        y = s.drop(s.emb(x)); hs = []; raw = None
        for l, r in enumerate(s.rnns):
            raw, hl = r(y, h[l]); hs.append(hl); y = s.drop(raw)
        return s.dec(y), [hh.detach() for hh in hs], raw, y
m = M(); opt = torch.optim.SGD(m.parameters(), lr=20, weight_decay=1e-7)
def evaluate():
    m.eval(); h = [torch.zeros(1, 20, H)] * 2; nll = 0; n = 0
    with torch.no_grad():
        for i in range(0, va.size(0) - 1, 35):
            T = min(35, va.size(0) - 1 - i); out, h, _, _ = m(va[i:i+T], h)
            nll += nn.functional.cross_entropy(out.view(-1, V), va[i+1:i+1+T].reshape(-1), reduction="sum").item(); n += T * 20
    m.train(); return math.exp(nll / n)
for epoch in range(2):
    h = [torch.zeros(1, 20, H)] * 2
    for w in range(120):
        i = w * 35; x, y = tr[i:i+35], tr[i+1:i+36]
        out, h, raw, dropped = m(x, h)
        loss = nn.functional.cross_entropy(out.view(-1, V), y.reshape(-1))
        total = loss + ar * dropped.pow(2).mean() + tar * (raw[1:] - raw[:-1]).pow(2).mean()
        opt.zero_grad(); total.backward(); nn.utils.clip_grad_norm_(m.parameters(), 0.25); opt.step()
        if w % 30 == 0: print(f"epoch {epoch+1} window {w} loss {loss.item():.3f}", flush=True)
    print(f"epoch {epoch+1} valid ppl {evaluate():.1f}", flush=True)
