# PyTorch side of `npm run bench:train`: the same Llama model, the same IOPO step (forward + backward + AdamW) on
# random tokens, timed the same way; prints one JSON line {"threads", "step_ms_median", "tokens_per_s"}.
# Usage: /usr/bin/python3 scripts/bench-train-torch.py --vocab 2048 --hidden 256 --layers 4 --heads 4 --kv-heads 4 \
#          --intermediate 704 --prompt 64 --response 64 --groups 2 --steps 20 --threads 2
import argparse, json, math, time
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
for k, v in dict(vocab=2048, hidden=256, layers=4, heads=4, kv_heads=4, intermediate=704, prompt=64, response=64, groups=2, steps=20, threads=0).items():
    p.add_argument("--" + k.replace("_", "-"), type=int, default=v)
a = p.parse_args()
if a.threads > 0:
    torch.set_num_threads(a.threads)
torch.manual_seed(0)
V, C, L, H, Hkv, I = a.vocab, a.hidden, a.layers, a.heads, a.kv_heads, a.intermediate
D = C // H
B, T = 4 * a.groups, a.prompt + a.response


def rms(x, w, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rot(x):
    return torch.cat((-x[..., D // 2:], x[..., : D // 2]), -1)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(V, C)
        self.layers = torch.nn.ModuleList()
        for _ in range(L):
            m = torch.nn.Module()
            m.q, m.k = torch.nn.Linear(C, H * D, bias=False), torch.nn.Linear(C, Hkv * D, bias=False)
            m.v, m.o = torch.nn.Linear(C, Hkv * D, bias=False), torch.nn.Linear(H * D, C, bias=False)
            m.g, m.u, m.d = torch.nn.Linear(C, I, bias=False), torch.nn.Linear(C, I, bias=False), torch.nn.Linear(I, C, bias=False)
            m.n1, m.n2 = torch.nn.Parameter(torch.ones(C)), torch.nn.Parameter(torch.ones(C))
            self.layers.append(m)
        self.norm = torch.nn.Parameter(torch.ones(C))
        self.head = torch.nn.Linear(C, V, bias=False)
        inv = 10000.0 ** (-torch.arange(0, D, 2).float() / D)
        f = torch.outer(torch.arange(T).float(), inv)
        emb = torch.cat((f, f), -1)
        self.cos, self.sin = emb.cos(), emb.sin()
        self.mask = torch.full((T, T), float("-inf")).triu(1)

    def forward(self, ids):
        x = self.emb(ids)
        for m in self.layers:
            h = rms(x, m.n1)
            q = m.q(h).view(B, T, H, D).transpose(1, 2)
            k = m.k(h).view(B, T, Hkv, D).transpose(1, 2)
            v = m.v(h).view(B, T, Hkv, D).transpose(1, 2)
            q, k = q * self.cos + rot(q) * self.sin, k * self.cos + rot(k) * self.sin
            if Hkv != H:
                k, v = k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(D) + self.mask
            y = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
            x = x + m.o(y)
            h = rms(x, m.n2)
            x = x + m.d(F.silu(m.g(h)) * m.u(h))
        return self.head(rms(x, self.norm))


model = Model()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
ids = torch.randint(0, V, (B, T))
targets = torch.roll(ids, -1, 1)
mask = torch.zeros(B, T)
mask[:, a.prompt - 1 : T - 1] = 1
ref = torch.zeros(B)


def step():
    lp = (torch.log_softmax(model(ids), -1).gather(-1, targets[..., None])[..., 0] * mask).sum(-1)
    r = (lp - ref).view(-1, 4)
    z = 0.5 * ((2 * r[:, 0] - r[:, 1] - r[:, 3]) + (2 * r[:, 2] - r[:, 3] - r[:, 1]))
    loss = -F.logsigmoid(0.1 * z).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


for _ in range(3):
    step()
times = []
for _ in range(a.steps):
    t = time.perf_counter()
    step()
    times.append((time.perf_counter() - t) * 1000)
med = sorted(times)[len(times) // 2]
print(json.dumps({"threads": torch.get_num_threads(), "step_ms_median": med, "tokens_per_s": B * T / med * 1000}))
