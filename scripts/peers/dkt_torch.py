#!/usr/bin/python3
"""PyTorch twin of `edgetrain fit --task tracing`, for timing an epoch side by side.

The reference DKT of data/education/assistments_2009/README.md: one-hot (skill, correct)
input (2K), LSTM 128, linear + sigmoid over K skills, BCE on the next answer's skill only,
Adam 1e-3, batch 32, training sequences cut into windows of 200 targets (state restarted),
10 % of the training students held out. It prints one line per epoch: seconds, train loss,
validation loss. Used only to measure: the figures edgerun reports come from edgetrain.

  /usr/bin/python3 scripts/peers/dkt_torch.py data/education/assistments_2009/assistments_2009.csv.zst [epochs] [threads]
"""
import random
import subprocess
import sys
import time

import torch

path = sys.argv[1]
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
torch.manual_seed(42)
random.seed(42)

raw = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True, text=True).stdout if path.endswith(".zst") else open(path).read()
seqs, skills = {}, 0
for line in raw.splitlines()[1:]:
    stu, _, sk, ok, split = line.split(",")
    if split != "train":
        continue
    seqs.setdefault(stu, []).append((int(sk), int(ok)))
    skills = max(skills, int(sk) + 1)
students = list(seqs.values())
random.shuffle(students)
nval = round(0.1 * len(students))
val, train = students[:nval], students[nval:]


def windows(ss, w=200):
    out = []
    for s in ss:
        for st in range(0, len(s) - 1, w):
            out.append(s[st:min(st + w, len(s) - 1) + 1])
    return out


def batch(ws):
    t = max(len(w) - 1 for w in ws)
    x = torch.zeros(len(ws), t, 2 * skills)
    nxt = torch.zeros(len(ws), t, dtype=torch.long)
    y = torch.zeros(len(ws), t)
    m = torch.zeros(len(ws), t)
    for b, w in enumerate(ws):
        for i in range(len(w) - 1):
            sk, ok = w[i]
            x[b, i, 2 * sk + ok] = 1
            nxt[b, i], y[b, i], m[b, i] = w[i + 1][0], w[i + 1][1], 1
    return x, nxt, y, m


class DKT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(2 * skills, 128, batch_first=True)
        self.out = torch.nn.Linear(128, skills)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.out(h)


def loss_of(model, b):
    x, nxt, y, m = b
    z = model(x).gather(2, nxt.unsqueeze(2)).squeeze(2)
    l = torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none")
    return (l * m).sum() / m.sum()


tw, vw = windows(train), windows(val)
model = DKT()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
vb = [batch(vw[i:i + 256]) for i in range(0, len(vw), 256)]
for e in range(epochs):
    random.shuffle(tw)
    bs = [tw[i:i + 32] for i in range(0, len(tw), 32)]
    # Only the model's work is timed (forward, backward, Adam, validation):
    # building the one-hot batches in Python is left out.
    took, tot = 0.0, 0.0
    for ws in bs:
        b = batch(ws)
        start = time.perf_counter()
        opt.zero_grad()
        l = loss_of(model, b)
        l.backward()
        opt.step()
        tot += l.item()
        took += time.perf_counter() - start
    start = time.perf_counter()
    with torch.no_grad():
        vl = sum(loss_of(model, b).item() for b in vb) / len(vb)
    took += time.perf_counter() - start
    print(f"epoch {e + 1}: {took:.1f} s  loss {tot / len(bs):.4f}  val_loss {vl:.4f}", flush=True)
