// Time and peak memory of reading an N x 3 float64 series (default N = 1e7) from .npy (readNpy of
// @sdekit/cli), HDF5, NetCDF-4 and Parquet (@sdekit/io), each read in a fresh child process:
//
//   cd benchmarks && npx tsx bench/io-formats.ts            # SDEKIT_IO_BENCH_N=1000000 for a quick run
//
// The files go to a temporary folder (about 1 GB for 1e7 x 3) and are removed at the end. .npy and
// .h5 are written by sdekit (writeNpy, writeSeriesFile: contiguous float64); .nc by netCDF4-python
// when /usr/bin/python3 has it (chunks of 65536 x 3 on an unlimited time dimension, as NetCDF files
// from models usually are), else by writeSeriesFile; .parquet by hyparquet-writer (1e6-row groups,
// SNAPPY). Each format is read whole and as a window of a tenth of the rows (@sdekit/io reads only
// the slices, row groups or chunks of the window). The time includes loading the reader (h5wasm:
// about 0.1 s). Peak memory is the child's peak resident set (VmHWM), Node itself included (about
// 70 MB with the packages loaded), and for HDF5 h5wasm's wasm heap.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '@sdekit/cli';
import { writeSeriesFile } from '@sdekit/io';
import { parquetWriteFile } from 'hyparquet-writer';

const D = 3;

/**
 * The read of one format, as a plain-node ES module (tsx would also transform h5wasm's 4 MB module,
 * which costs 1.5 s and 600 MB that the built `sdekit` never pays). Resolved from this folder, so it
 * reads with the built packages (`pnpm build` first).
 */
const CHILD = `
import { readFileSync } from 'node:fs';
const [format, path, window] = process.argv.slice(1);
const { readNpy } = await import('@sdekit/cli');
const { readSeries } = await import('@sdekit/io');
const rows = window === '' ? undefined : { start: Number(window.split(':')[0]), stop: Number(window.split(':')[1]) };
const started = performance.now();
const shape =
  format === 'npy'
    ? (await readNpy(path)).shape
    : (await readSeries(path, { ...(format === 'nc' ? { variable: 'x' } : {}), rows })).shape;
const seconds = (performance.now() - started) / 1000;
// VmHWM (peak resident set of this process's memory map): getrusage's maxRSS would carry the
// parent's peak over the fork and exec that started this process.
const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
process.stdout.write(JSON.stringify({ rows: shape[0], seconds, peakMB: hwm / 1024 }));
`;

async function main(): Promise<void> {
  const N = Number(process.env.SDEKIT_IO_BENCH_N ?? 1e7);
  const dir = mkdtempSync(join(tmpdir(), 'sdekit-io-bench-'));
  try {
    const data = new Float64Array(N * D);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.001) + (i % D);
    const files: Record<string, string> = {
      npy: join(dir, 'x.npy'),
      h5: join(dir, 'x.h5'),
      nc: join(dir, 'x.nc'),
      parquet: join(dir, 'x.parquet'),
    };
    await writeNpy(files.npy, data, [N, D]);
    await writeSeriesFile(files.h5, data, [N, D], { dt: 0.01, names: ['u', 'v', 'w'] });
    // The .npy data start after its header (magic, version, a 2-byte length, the header).
    const npyOffset = 10 + readFileSync(files.npy).subarray(0, 10).readUInt16LE(8);
    let ncWriter = 'writeSeriesFile';
    try {
      execFileSync('/usr/bin/python3', [
        '-c',
        'import sys, numpy as np, netCDF4\n' +
          'x = np.fromfile(sys.argv[1], dtype="<f8", offset=int(sys.argv[3])).reshape(-1, 3)\n' +
          'with netCDF4.Dataset(sys.argv[2], "w") as nc:\n' +
          '    nc.createDimension("time", None); nc.createDimension("variable", 3)\n' +
          '    t = nc.createVariable("time", "f8", ("time",), chunksizes=(65536,)); t[:] = 0.01 * np.arange(len(x))\n' +
          '    v = nc.createVariable("x", "f8", ("time", "variable"), chunksizes=(65536, 3)); v[:] = x\n',
        files.npy,
        files.nc,
        String(npyOffset),
      ]);
      ncWriter = 'netCDF4-python (chunks 65536 x 3, unlimited time)';
    } catch {
      await writeSeriesFile(files.nc, data, [N, D], { dt: 0.01, names: ['u', 'v', 'w'] });
    }
    const column = (j: number) => Float64Array.from({ length: N }, (_, i) => data[i * D + j]);
    await parquetWriteFile({
      filename: files.parquet,
      columnData: ['u', 'v', 'w'].map((name, j) => ({ name, data: column(j), type: 'DOUBLE' as const })),
      rowGroupSize: 1_000_000,
    });
    console.log(`N = ${N} x ${D} float64; .nc written by ${ncWriter}`);
    const w0 = Math.floor(N / 2);
    const w1 = w0 + Math.floor(N / 10);
    console.log(`| format | file | read all | peak RSS | read rows ${w0}:${w1} | peak RSS |`);
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    const measure = (format: string, path: string, window: string, want: number) => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, format, path, window], {
        encoding: 'utf8',
        cwd: join(import.meta.dirname, '..'),
      });
      if (r.status !== 0) throw new Error(`${format}: ${r.stderr}`);
      const m = JSON.parse(r.stdout.trim().split('\n').pop() as string);
      if (m.rows !== want) throw new Error(`${format}: read ${m.rows} rows, not ${want}`);
      return `${m.seconds.toFixed(2)} s | ${m.peakMB.toFixed(0)} MB`;
    };
    for (const [format, path] of Object.entries(files)) {
      const mb = statSync(path).size / 1e6;
      const all = measure(format, path, '', N);
      const part = format === 'npy' ? '- | -' : measure(format, path, `${w0}:${w1}`, w1 - w0);
      console.log(`| ${format} | ${mb.toFixed(0)} MB | ${all} | ${part} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
