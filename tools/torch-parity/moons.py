"""Learning-per-step references on two moons, in PyTorch (one thread): writes the data for
benchmarks/bench/parity-moons.ts and prints PyTorch's held-out numbers for the same two tasks.

Data: two moons with noise 0.05, 8000 training and 4000 test points (numpy seed 3), written as
OUT/moons-train.npy and OUT/moons-test.npy.
- RealNVP density: sdekit's realNvp shape (6 affine couplings, conditioner [64, 64] swish with a
  zero last layer, log-scale s = 3 tanh(s_raw / 3) with s_raw the first outputs, reversal between
  couplings, the data standardised by its training mean and std), Adam lr 1e-3, batch 512, 3000
  steps. Prints the held-out NLL in nats per point.
- DSM: z-scored data, swish MLP [128, 128], sigma 0.05, Adam lr 1e-3, batch 256, 3000 steps. Prints
  the held-out loss per component, mean over 20 noise draws on the test set.
Both networks use PyTorch's default initialisation.
Usage: python3 moons.py OUT_DIR
"""
import json, math, sys, time
import numpy as np
import torch
import torch.nn as nn

out = sys.argv[1]
torch.set_num_threads(1)
rng = np.random.default_rng(3)


def moons(n):
    t = np.pi * rng.uniform(size=n)
    up = np.arange(n) % 2 == 0
    x = np.where(up, np.cos(t), 1 - np.cos(t))
    y = np.where(up, np.sin(t), 0.5 - np.sin(t))
    return np.stack([x, y], 1) + 0.05 * rng.standard_normal((n, 2))


train_np, test_np = moons(8000), moons(4000)
np.save(f'{out}/moons-train.npy', train_np)
np.save(f'{out}/moons-test.npy', test_np)
mu, sd = train_np.mean(0), train_np.std(0)
train = torch.tensor((train_np - mu) / sd, dtype=torch.float32)
test = torch.tensor((test_np - mu) / sd, dtype=torch.float32)
log_sd = float(np.log(sd).sum())


def mlp(widths, zero_last=False):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.SiLU())
    if zero_last:
        nn.init.zeros_(layers[-1].weight)
        nn.init.zeros_(layers[-1].bias)
    return nn.Sequential(*layers)


# ---- RealNVP ------------------------------------------------------------------------------------
torch.manual_seed(0)
S = 3.0
conditioners = nn.ModuleList([mlp([1, 64, 64, 2], zero_last=True) for _ in range(6)])


def log_prob(x):  # x standardised; generative order z -> C1 -> reverse -> ... -> C6 -> x
    ld = torch.zeros(x.shape[0])
    h = x
    for i in reversed(range(6)):
        a, b = h[:, :1], h[:, 1:]
        out_ = conditioners[i](a)
        s = S * torch.tanh(out_[:, :1] / S)
        h = torch.cat([a, (b - out_[:, 1:]) * torch.exp(-s)], 1)
        ld = ld - s.sum(1)
        if i > 0:
            h = h.flip(1)
    return -0.5 * (h ** 2).sum(1) - math.log(2 * math.pi) + ld - log_sd


opt = torch.optim.Adam(conditioners.parameters(), 1e-3)
g = torch.Generator().manual_seed(1)
t0 = time.time()
for _ in range(3000):
    idx = torch.randint(0, len(train), (512,), generator=g)
    loss = -log_prob(train[idx]).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
with torch.no_grad():
    nll = float(-log_prob(test).mean())
print(json.dumps({'task': 'realnvp', 'torch': torch.__version__, 'heldOutNll': nll, 'seconds': time.time() - t0}))

# ---- DSM ----------------------------------------------------------------------------------------
torch.manual_seed(0)
net = mlp([2, 128, 128, 2])
opt = torch.optim.Adam(net.parameters(), 1e-3)
sigma = 0.05
g = torch.Generator().manual_seed(1)
t0 = time.time()
for _ in range(3000):
    x = train[torch.randint(0, len(train), (256,), generator=g)]
    z = torch.randn(x.shape, generator=g)
    loss = ((net(x + sigma * z) - z) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
with torch.no_grad():
    draws = [torch.randn(test.shape, generator=g) for _ in range(20)]
    held = float(np.mean([float(((net(test + sigma * z) - z) ** 2).mean()) for z in draws]))
print(json.dumps({'task': 'dsm', 'torch': torch.__version__, 'heldOutLossPerComponent': held,
                  'seconds': time.time() - t0}))
