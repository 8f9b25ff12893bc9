import { describe, expect, it } from 'vitest';
import { type PerfRow, type TorchRate, torchComparison } from '../src/perf.js';

const row = (pkg: string, backend: string, group: string, name: string, hz: number): PerfRow => ({
  pkg,
  backend,
  group,
  name,
  hz,
  meanMs: 1000 / hz,
  rme: 1,
  samples: 5,
});

describe('perf: the PyTorch comparison', () => {
  it("takes sdekit's best backend, converts bench ops to samples or steps, and divides by PyTorch's rates", () => {
    const rows = [
      row(
        'score',
        'wasm',
        'score.bench.ts > DSM training, 20 steps per call (wasm)',
        'MLP [128, 128], D = 2, batch 256',
        10,
      ),
      row(
        'score',
        'cpu',
        'score.bench.ts > DSM training, 20 steps per call (cpu)',
        'MLP [128, 128], D = 2, batch 256',
        4,
      ),
      row(
        'flows',
        'wasm',
        'train-wasm.bench.ts > training step, dim 8, 6 couplings, hidden 64, batch 1024 (wasm)',
        'realNvp (affine)',
        30,
      ),
      row(
        'flows',
        'wasm',
        'train-wasm.bench.ts > training step, dim 2, 6 couplings, hidden 64, batch 1024 (wasm)',
        'realNvp (affine)',
        99,
      ),
    ];
    const torch: TorchRate[] = [
      { work: 'DSM MLP [128, 128], D = 2, batch 256', threads: 1, perSecond: 102400, unit: 'samples/s' },
      { work: 'DSM MLP [128, 128], D = 2, batch 256', threads: 2, perSecond: 204800, unit: 'samples/s' },
      {
        work: 'RealNVP dim 8, 6 couplings, hidden [64, 64], batch 1024',
        threads: 1,
        perSecond: 120,
        unit: 'steps/s',
      },
    ];
    const table = torchComparison(rows, torch).split('\n');
    // 10 calls/s x 20 steps x 256 samples = 51200 samples/s on wasm (cpu is slower): 0.5x and 0.25x.
    expect(table[2]).toBe(
      '| DSM MLP [128, 128], D = 2, batch 256 | 5.12e+4 samples/s (wasm) | 1.02e+5 | 0.50x | 2.05e+5 | 0.25x |',
    );
    // The dim-8 RealNVP row only (30 steps/s against 120), no 2-thread rate.
    expect(table[3]).toBe(
      '| RealNVP dim 8, 6 couplings, hidden [64, 64], batch 1024 | 30.0 steps/s (wasm) | 120 | 0.25x | - | - |',
    );
    expect(table).toHaveLength(4); // the U-Net has no sdekit row here
    expect(torchComparison([], torch)).toBe('');
  });
});
