// --series-format h5: a case's series saved as HDF5 (one dataset 'data' with the description) and
// listed in the result as *.h5, which the metrics schema accepts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHdf5Series } from '@sdekit/io';
import { describe, expect, it } from 'vitest';
import { CaseContext } from '../src/context.js';
import { silentProgress } from '../src/progress.js';

describe('CaseContext.saveSeries', () => {
  it('writes HDF5 with seriesFormat h5', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdekit-bench-h5-'));
    try {
      const ctx = new CaseContext({
        id: 'T1',
        title: 'test',
        profile: 'quick',
        seed: 5,
        runDir: dir,
        seriesFormat: 'h5',
        progress: silentProgress,
      });
      const data = Float64Array.from({ length: 12 }, (_, i) => i / 3);
      await ctx.saveSeries('observed', data, [6, 2], 'an observed path');
      const result = ctx.result(0, null);
      expect(result.series).toEqual([
        { file: 'series/T1-observed.h5', shape: [6, 2], dtype: 'float64', description: 'an observed path' },
      ]);
      const back = await readHdf5Series(join(dir, 'series', 'T1-observed.h5'), { dataset: 'data' });
      expect(back.data).toEqual(data);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
