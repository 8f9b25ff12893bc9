import { describe, expect, it } from 'vitest';
import { evaluateTarget, type RunReport, validateRunReport } from '../src/metrics';
import { configurationTables } from '../src/report';

function validReport(): RunReport {
  return {
    schema: 'sdekit-bench-metrics',
    schemaVersion: 1,
    date: '2026-11-26T15:00:00.000Z',
    profile: 'quick',
    seed: 1,
    backend: { name: 'wasm', requested: 'auto' },
    versions: { '@sdekit/sde': '0.1.0' },
    machine: { node: 'v20.0.0', platform: 'linux-x64', cpus: 2, cpuModel: 'cpu', memoryGiB: 24 },
    cases: [
      {
        id: 'T2',
        title: 't',
        status: 'failed',
        error: null,
        metrics: [
          { name: 'a', value: 0.01, target: { op: '<', value: 0.02 }, pass: true },
          { name: 'b', value: 0.5, target: { op: '<', value: 0.1 }, pass: false },
          { name: 'c', value: 3, target: null, pass: null },
        ],
        stages: [{ name: 'data', seconds: 1.5 }],
        seconds: 2,
        sizes: { T: 100, network: 'mlp' },
        warnings: [],
        plots: [{ file: 'plots/T2-acf.svg', title: 'ACF', caption: 'c' }],
        series: [{ file: 'series/T2-observed.npy', shape: [10, 2], dtype: 'float64', description: 'd' }],
        models: [{ file: 'models/T2-m.json', format: 'x', description: 'd' }],
      },
    ],
    passed: false,
    seconds: 2,
  };
}

describe('metrics.json schema', () => {
  it('accepts a consistent report', () => {
    expect(validateRunReport(validReport())).toEqual([]);
    expect(validateRunReport(JSON.parse(JSON.stringify(validReport())))).toEqual([]);
  });

  it('rejects inconsistent pass flags, statuses and missing fields, naming the path', () => {
    const r = JSON.parse(JSON.stringify(validReport()));
    r.cases[0].metrics[0].pass = false; // 0.01 < 0.02 passes
    r.cases[0].status = 'passed'; // metric b failed
    r.passed = true;
    delete r.seed;
    r.cases[0].plots[0].file = 'plots/x.png';
    const problems = validateRunReport(r);
    expect(problems).toContain('$.seed: must be an integer');
    expect(problems.some((p) => p.startsWith('$.cases[0].metrics[0].pass'))).toBe(true);
    expect(problems.some((p) => p.startsWith("$.cases[0].status: is 'passed'"))).toBe(true);
    expect(problems.some((p) => p.startsWith('$.cases[0].plots[0]'))).toBe(true);
    expect(validateRunReport(null)).toEqual(['$: must be an object']);
  });

  it('an error case must carry its message; a non-finite value never passes', () => {
    const r = JSON.parse(JSON.stringify(validReport()));
    r.cases[0].status = 'error';
    expect(validateRunReport(r).some((p) => p.startsWith('$.cases[0].error'))).toBe(true);
    expect(evaluateTarget(null, { op: '<', value: 1 })).toBe(false);
    expect(evaluateTarget(Number.NaN, { op: '>', value: 1 })).toBe(false);
    expect(evaluateTarget(2, { op: '>=', value: 2 })).toBe(true);
    expect(evaluateTarget(2, null)).toBeNull();
  });
});

describe('configuration tables', () => {
  it('pivots tagged metrics into configuration x metric, marking failures; untagged cases give none', () => {
    const r = validReport();
    expect(configurationTables(r)).toBe('');
    const metric = (name: string, value: number, pass: boolean | null) => ({
      name,
      value,
      target: pass === null ? null : { op: '<' as const, value: 0.01 },
      pass,
    });
    const tagged: RunReport = {
      ...r,
      cases: [
        {
          ...r.cases[0],
          metrics: [
            metric('d=1 N=10 n=100: drift MSE (flow)', 0.001, true),
            metric('d=1 N=10 n=100: drift MSE (MLP baseline)', 0.2, null),
            metric('d=2 N=10 n=1000: drift MSE (flow)', 0.05, false),
            metric('d=2 N=10 n=1000: drift MSE (MLP baseline)', 0.3, null),
            metric('Phi relative error: z', 0.5, null),
          ],
        },
      ],
    };
    expect(configurationTables(tagged).split('\n')).toEqual([
      'T2 by configuration:',
      '',
      '| configuration | drift MSE (flow) | drift MSE (MLP baseline) |',
      '| --- | ---: | ---: |',
      '| d=1 N=10 n=100 | 0.001 | 0.2 |',
      '| d=2 N=10 n=1000 | 0.05 FAIL | 0.3 |',
      '',
    ]);
  });
});
