"""PyTorch CPU reference speeds for the networks of `sdekit-bench perf` (Adam training steps).

The same three works as sdekit's bench files, at the same sizes, each a full Adam step (forward,
backward, update) on a fixed mini-batch:
- DSM, swish MLP [128, 128], D = 2, batch 256 (packages/score/bench/dsm.bench.ts);
- DSM, periodic 1-D U-Net base 16, multipliers [1, 2, 4], kernel 5, D = 32, batch 64, batch norm in
  training mode (the U-Net of docs/methods.md section 2; the architecture of
  tools/torch-parity/networks.py);
- maximum likelihood of a RealNVP, dim 8, 6 affine couplings, conditioners [64, 64] swish, batch 1024
  (packages/flows/bench/train.ts).
Each is timed on 1 and on 2 threads (torch.set_num_threads) over repeated batches of steps, and the
median rate is printed as JSON: [{"work", "threads", "perSecond", "unit"}] with unit "samples/s"
(DSM) or "steps/s" (RealNVP), the units of the perf table.

Usage: python3 perf.py [SECONDS_PER_WORK]   (PyTorch from Debian's python3-torch)
"""
import json, math, statistics, sys, time
import torch
import torch.nn as nn

from networks import UNet, silu

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0


class Mlp(nn.Module):
    def __init__(s, widths):
        super().__init__()
        s.layers = nn.ModuleList([nn.Linear(widths[i], widths[i + 1]) for i in range(len(widths) - 1)])

    def forward(s, x):
        for i, l in enumerate(s.layers):
            x = l(x)
            if i < len(s.layers) - 1:
                x = silu(x)
        return x


class RealNvp(nn.Module):
    """sdekit's realNvp: affine couplings u_b -> u_b exp(s) + t with s = 3 tanh(s_raw / 3) from a
    swish conditioner of the first floor(d/2) coordinates, the coordinates reversed between couplings."""

    def __init__(s, d, layers, hidden):
        super().__init__()
        s.d, s.da = d, d // 2
        s.cond = nn.ModuleList([Mlp([s.da] + hidden + [2 * (d - s.da)]) for _ in range(layers)])

    def log_prob(s, x):
        ld = torch.zeros(x.shape[0])
        h = x
        nb = s.d - s.da
        for i in reversed(range(len(s.cond))):
            a, b = h[:, :s.da], h[:, s.da:]
            out = s.cond[i](a)
            sc = 3.0 * torch.tanh(out[:, :nb] / 3.0)
            h = torch.cat([a, (b - out[:, nb:]) * torch.exp(-sc)], 1)
            ld = ld - sc.sum(1)
            if i > 0:
                h = h.flip(1)
        return -0.5 * (h ** 2).sum(1) - 0.5 * s.d * math.log(2 * math.pi) + ld


def rate(step, units_per_step):
    for _ in range(3):
        step()  # warm-up
    rates, spent = [], 0.0
    while spent < SECONDS or len(rates) < 3:
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 0.25:
            step()
            n += 1
        dt = time.perf_counter() - t0
        spent += dt
        rates.append(n * units_per_step / dt)
    return statistics.median(rates)


def dsm_step(net, dim, batch, sigma):
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    x = torch.randn(batch, dim)
    z = torch.randn(batch, dim)
    xt = x + sigma * z

    def step():
        opt.zero_grad()
        loss = ((net(xt) - z) ** 2).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
    return step


def nll_step(flow, dim, batch):
    opt = torch.optim.Adam(flow.parameters(), 1e-3)
    x = torch.randn(batch, dim)

    def step():
        opt.zero_grad()
        loss = -flow.log_prob(x).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(flow.parameters(), 10.0)
        opt.step()
    return step


WORKS = [
    ('DSM MLP [128, 128], D = 2, batch 256', 'samples/s', 256,
     lambda: dsm_step(Mlp([2, 128, 128, 2]), 2, 256, 0.05)),
    ('DSM U-Net base 16 [1, 2, 4], D = 32, batch 64', 'samples/s', 64,
     lambda: dsm_step(UNet(16, [1, 2, 4], 5).train(), 32, 64, 0.1)),
    ('RealNVP dim 8, 6 couplings, hidden [64, 64], batch 1024', 'steps/s', 1,
     lambda: nll_step(RealNvp(8, 6, [64, 64]), 8, 1024)),
]

out = []
for threads in (1, 2):
    torch.set_num_threads(threads)
    for work, unit, per_step, make in WORKS:
        torch.manual_seed(0)
        out.append({'work': work, 'threads': threads, 'perSecond': rate(make(), per_step), 'unit': unit,
                    'torch': torch.__version__})
print(json.dumps(out))
