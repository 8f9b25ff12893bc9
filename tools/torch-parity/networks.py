"""PyTorch twins of sdekit's networks, shared by trajectories.py (exact-trajectory fixtures) and
perf.py (reference speeds).

UNet mirrors sdekit's UNet1d (@sdekit/score): channels first here ([B, C, W], filters [Cout, Cin, k]),
circular padding (k - 1) / 2 for the block convolutions, stride-2 down-sampling with k = 2 and no
bias, nearest up-sampling, the skip concatenated after the up-sampled features, batch norm momentum
0.1 (sdekit's 0.9 is the weight of the old running value), eps 1e-5, a 1x1 head with bias.
"""
import torch
import torch.nn as nn


def silu(x):
    return x * torch.sigmoid(x)


class UNet(nn.Module):
    def __init__(s, base, mults, k):
        super().__init__()
        s.k = k
        chans = [m * base for m in mults]
        s.enc, s.down, s.dec = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        cin = 1
        for ch in chans:
            s.enc.append(s.block(cin, ch))
            s.down.append(nn.Conv1d(ch, ch, 2, stride=2, bias=False))
            cin = ch
        s.bottleneck = s.block(cin, 2 * cin)
        below = 2 * cin
        for ch in reversed(chans):
            s.dec.append(s.block(below + ch, ch))
            below = ch
        s.head = nn.Conv1d(below, 1, 1)

    def block(s, cin, cout):
        return nn.ModuleList([nn.Conv1d(cin, cout, s.k, padding=(s.k - 1) // 2, padding_mode='circular', bias=False),
                              nn.BatchNorm1d(cout, momentum=0.1, eps=1e-5),
                              nn.Conv1d(cout, cout, s.k, padding=(s.k - 1) // 2, padding_mode='circular', bias=False),
                              nn.BatchNorm1d(cout, momentum=0.1, eps=1e-5)])

    @staticmethod
    def run_block(b, h):
        for i in (0, 2):
            h = silu(b[i + 1](b[i](h)))
        return h

    def forward(s, x):
        h = x[:, None, :]
        skips = []
        for b, dn in zip(s.enc, s.down):
            h = s.run_block(b, h)
            skips.append(h)
            h = dn(h)
        h = s.run_block(s.bottleneck, h)
        for b, skip in zip(s.dec, reversed(skips)):
            h = s.run_block(b, torch.cat([h.repeat_interleave(2, dim=2), skip], 1))
        return s.head(h)[:, 0, :]

    def named(s, levels):
        """(sdekit name, tensor in sdekit's layout) for every parameter and running statistic."""
        out = []

        def conv(name, c):
            out.append((name, c.weight.detach().permute(2, 1, 0)))

        def block(prefix, b):
            for i, j in ((1, 0), (2, 2)):
                conv(f'{prefix}.conv{i}', b[j])
                bn = b[j + 1]
                out.extend([(f'{prefix}.bn{i}.gamma', bn.weight.detach()), (f'{prefix}.bn{i}.beta', bn.bias.detach()),
                            (f'{prefix}.bn{i}.mean', bn.running_mean), (f'{prefix}.bn{i}.var', bn.running_var)])
        for l in range(levels):
            block(f'enc{l}', s.enc[l])
            conv(f'down{l}.w', s.down[l])
        block('bottleneck', s.bottleneck)
        for i, l in enumerate(reversed(range(levels))):
            block(f'dec{l}', s.dec[i])
        conv('head.w', s.head)
        out.append(('head.b', s.head.bias.detach()))
        return out
