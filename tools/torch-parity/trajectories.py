"""Exact-trajectory fixtures for sdekit's training machinery, written by PyTorch.

For three small networks of sdekit's architectures (a swish MLP trained by denoising score matching, a
RealNVP trained by maximum likelihood, a periodic 1-D U-Net with batch norm trained by DSM) this script
draws initial weights with PyTorch's default initialisation, a sequence of mini-batches, and runs Adam
for 100 steps, recording the parameters after 1, 10 and 100 steps. sdekit's tests load the same
weights and batches, run the same steps with @sdekit/nn's Adam and the library's own layers, and must
reproduce the parameters to float32 rounding.

Each network mirrors sdekit's definition exactly (layouts are converted when written):
- Mlp: h = act(x W + b) with W [in, out] (PyTorch's Linear stores [out, in]; written transposed).
- AffineCoupling (RealNVP): u_a = u[:, :floor(d/2)] passes; (s_raw, t) = NN(u_a) with s_raw the first
  d_b outputs; s = S tanh(s_raw / S), S = 3; v_b = u_b exp(s) + t. The flow's generative order is
  z -> C1 -> reverse -> C2 -> x; log p(x) inverts it.
- UNet1d: channels last in sdekit ([B, W, C], filters [k, Cin, Cout]); PyTorch is channels first
  (filters [Cout, Cin, k]); circular padding (k - 1) / 2 for the k = 3 convolutions, none for the
  k = 2, stride 2 down-sampling; only the head convolution has a bias (a batch norm follows every other
  one, directly or after the next convolution, and removes it); nearest
  up-sampling; skip concatenated after the up-sampled features; batch norm momentum 0.1 (sdekit's 0.9
  is the weight of the old running value), eps 1e-5.

Two optimiser settings per network: constant lr 1e-3 without clipping (PyTorch's defaults), and
sdekit's schedule (linear warm-up over 10 steps to 2e-3, cosine decay to 1e-5 at step 100) with
global-norm clipping at a norm the gradients exceed (torch.nn.utils.clip_grad_norm_).

Arrays are stored as base64 of little-endian float32, in sdekit's layouts.
Usage: python3 trajectories.py REPO_ROOT   (PyTorch from Debian's python3-torch, one thread)
"""
import base64, json, math, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from networks import UNet, silu

torch.set_num_threads(1)
root = sys.argv[1] if len(sys.argv) > 1 else '.'
STEPS = 100
SNAPSHOTS = [1, 10, 100]


def b64(a):
    return base64.b64encode(np.ascontiguousarray(np.asarray(a, dtype='<f4')).tobytes()).decode()


def schedule(name):
    if name == 'constant':
        return lambda k: 1e-3
    peak, warm, total, floor = 2e-3, 10, STEPS, 1e-5

    def lr(k):  # k: updates done so far (sdekit's warmupCosine)
        if k < warm:
            return peak * (k + 1) / warm
        p = min(1.0, (k - warm) / (total - warm))
        return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * p))
    return lr


def train(params, loss_of, batches, setting, clip, snapshot):
    opt = torch.optim.Adam(params, lr=1e-3)
    lr = schedule(setting)
    out, losses, norms = {}, [], []
    for k in range(STEPS):
        for g in opt.param_groups:
            g['lr'] = lr(k)
        opt.zero_grad()
        loss = loss_of(batches[k])
        loss.backward()
        norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params)).item()
        norms.append(norm)
        if setting == 'schedule':
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        losses.append(loss.item())
        if k + 1 in SNAPSHOTS:
            out[str(k + 1)] = snapshot()
    return {'params': out, 'losses': losses, 'gradNorms': norms}


# ---- MLP, DSM ----------------------------------------------------------------------------------
def mlp_fixture():
    torch.manual_seed(11)
    widths = [2, 16, 16, 2]
    layers0 = [nn.Linear(widths[i], widths[i + 1]) for i in range(3)]  # PyTorch's default init
    sigma, batch = 0.05, 16
    g = torch.Generator().manual_seed(12)
    batches = []
    for _ in range(STEPS):
        x = torch.randn(batch, 2, generator=g) * torch.tensor([1.0, 0.5])
        z = torch.randn(batch, 2, generator=g)
        batches.append((x + sigma * z, z))

    def flat(layers):
        return np.concatenate([np.concatenate([l.weight.detach().numpy().T.ravel(), l.bias.detach().numpy()])
                               for l in layers])

    runs = {}
    for setting in ['constant', 'schedule']:
        layers = [nn.Linear(widths[i], widths[i + 1]) for i in range(3)]
        for l, l0 in zip(layers, layers0):
            l.load_state_dict(l0.state_dict())
        params = [p for l in layers for p in (l.weight, l.bias)]

        def net(x):
            h = x
            for i, l in enumerate(layers):
                h = l(h)
                if i < 2:
                    h = silu(h)
            return h
        runs[setting] = train(params, lambda b: ((net(b[0]) - b[1]) ** 2).mean(), batches, setting, 0.5,
                              lambda: b64(flat(layers)))
    return {
        'format': 'sdekit.torch-trajectory', 'network': 'mlp', 'torch': torch.__version__,
        'config': {'inputDim': 2, 'hiddenDims': [16, 16], 'outputDim': 2, 'activation': 'swish'},
        'sigma': sigma, 'batchSize': batch, 'steps': STEPS, 'clipNorm': 0.5,
        'initial': b64(flat(layers0)),
        'inputs': b64(torch.stack([b[0] for b in batches]).numpy()),
        'targets': b64(torch.stack([b[1] for b in batches]).numpy()),
        'runs': runs,
    }


# ---- RealNVP, maximum likelihood --------------------------------------------------------------
def realnvp_fixture():
    torch.manual_seed(21)
    d, hidden, S = 2, [8, 8], 3.0
    da = d // 2

    def conditioner():
        ws = [da] + hidden + [2 * (d - da)]
        return [nn.Linear(ws[i], ws[i + 1]) for i in range(len(ws) - 1)]  # last layer random too
    couplings0 = [conditioner(), conditioner()]
    g = torch.Generator().manual_seed(22)
    batch = 32
    batches = []
    for _ in range(STEPS):
        t = math.pi * torch.rand(batch, generator=g)
        up = (torch.arange(batch) % 2 == 0)
        x = torch.where(up, torch.cos(t), 1 - torch.cos(t))
        y = torch.where(up, torch.sin(t), 0.5 - torch.sin(t))
        batches.append(torch.stack([x, y], 1) + 0.1 * torch.randn(batch, 2, generator=g))

    def flat(couplings):
        return np.concatenate([np.concatenate([l.weight.detach().numpy().T.ravel(), l.bias.detach().numpy()])
                               for c in couplings for l in c])

    def nn_apply(layers, x):
        h = x
        for i, l in enumerate(layers):
            h = l(h)
            if i < len(layers) - 1:
                h = silu(h)
        return h

    def coupling_inverse(layers, v):
        va, vb = v[:, :da], v[:, da:]
        h = nn_apply(layers, va)
        s = S * torch.tanh(h[:, :d - da] / S)
        t = h[:, d - da:]
        return torch.cat([va, (vb - t) * torch.exp(-s)], 1), -s.sum(1)

    runs = {}
    for setting in ['constant', 'schedule']:
        couplings = [[nn.Linear(l.in_features, l.out_features) for l in c] for c in couplings0]
        for c, c0 in zip(couplings, couplings0):
            for l, l0 in zip(c, c0):
                l.load_state_dict(l0.state_dict())
        params = [p for c in couplings for l in c for p in (l.weight, l.bias)]

        def log_prob(x):
            # data -> base: C2^{-1}, reverse, C1^{-1}
            h, ld2 = coupling_inverse(couplings[1], x)
            h = h.flip(1)
            z, ld1 = coupling_inverse(couplings[0], h)
            return -0.5 * (z ** 2).sum(1) - 0.5 * d * math.log(2 * math.pi) + ld1 + ld2
        runs[setting] = train(params, lambda b: -log_prob(b).mean(), batches, setting, 1.0,
                              lambda: b64(flat(couplings)))
    return {
        'format': 'sdekit.torch-trajectory', 'network': 'realnvp', 'torch': torch.__version__,
        'config': {'dim': d, 'layers': 2, 'hidden': hidden, 'logScaleBound': S, 'mixing': 'reverse'},
        'batchSize': batch, 'steps': STEPS, 'clipNorm': 1.0,
        'initial': b64(flat(couplings0)),
        'inputs': b64(torch.stack(batches).numpy()),
        'runs': runs,
    }


# ---- periodic 1-D U-Net, DSM ------------------------------------------------------------------
def unet_fixture():
    base, mults, k, width, batch, sigma = 2, [1, 2], 3, 8, 8, 0.1
    torch.manual_seed(31)
    net0 = UNet(base, mults, k)
    g = torch.Generator().manual_seed(32)
    batches = []
    grid = torch.arange(width) * 2 * math.pi / width
    for _ in range(STEPS):
        a = torch.randn(batch, 2, generator=g)
        x = a[:, :1] * torch.cos(grid) + a[:, 1:] * torch.sin(2 * grid)
        z = torch.randn(batch, width, generator=g)
        batches.append((x + sigma * z, z))

    def weights(net):
        return {name: b64(t.numpy()) for name, t in net.named(len(mults))}

    runs = {}
    for setting in ['constant', 'schedule']:
        net = UNet(base, mults, k)
        net.load_state_dict(net0.state_dict())
        net.train()
        params = list(net.parameters())
        runs[setting] = train(params, lambda b: ((net(b[0]) - b[1]) ** 2).mean(), batches, setting, 1.0,
                              lambda: weights(net))
    return {
        'format': 'sdekit.torch-trajectory', 'network': 'unet', 'torch': torch.__version__,
        'config': {'width': width, 'baseChannels': base, 'multipliers': mults, 'kernelSize': k, 'bnMomentum': 0.9},
        'sigma': sigma, 'batchSize': batch, 'steps': STEPS, 'clipNorm': 1.0,
        'initial': weights(net0),
        'inputs': b64(torch.stack([b[0] for b in batches]).numpy()),
        'targets': b64(torch.stack([b[1] for b in batches]).numpy()),
        'runs': runs,
    }


for rel, make in [('packages/nn/test/fixtures/torch-trajectory-mlp.json', mlp_fixture),
                  ('packages/flows/test/fixtures/torch-trajectory-realnvp.json', realnvp_fixture),
                  ('packages/score/test/fixtures/torch-trajectory-unet.json', unet_fixture)]:
    fixture = make()
    path = f'{root}/{rel}'
    with open(path, 'w') as f:
        json.dump(fixture, f, separators=(',', ':'))
    print(path, {s: [round(r['losses'][0], 4), round(r['losses'][-1], 4), round(max(r['gradNorms']), 3)]
                 for s, r in fixture['runs'].items()})
