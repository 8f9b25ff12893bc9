// Writes packages/io/test/fixtures/series.parquet with parquet-wasm (the Rust `parquet` crate
// compiled to wasm) and apache-arrow, so the reader (hyparquet) is tested on a file another library
// wrote. Neither is a dependency of the repository: run it from a folder where they are installed,
//
//   cd "$(mktemp -d)" && npm i parquet-wasm@0.7.1 apache-arrow@21.1.0
//   node /path/to/sdekit/packages/io/scripts/make-parquet-fixture.mjs
//
// Writes series.parquet and series-gzip.parquet (50 rows of time, u; GZIP).
//
// The values follow make-fixtures.py (value(i, j) = sin(0.1 i + j) + j), in row groups of 64 rows
// (so a window crosses row groups), SNAPPY-compressed like most Parquet writers by default.

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(join(process.cwd(), 'noop.js'));
const arrow = await import(pathToFileURL(require.resolve('apache-arrow')).href);
// The ESM build with the wasm bytes passed in (0.7.1's node build fails to load under Node 20).
const pq = await import(pathToFileURL(require.resolve('parquet-wasm/esm')).href);
pq.initSync({ module: readFileSync(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')) });

const n = 200;
const col = (j, nanRow = -1) =>
  Float64Array.from({ length: n }, (_, i) => (i === nanRow ? Number.NaN : Math.sin(0.1 * i + j) + j));
const table = arrow.tableFromArrays({
  time: Float64Array.from({ length: n }, (_, i) => 0.02 * i),
  u: col(0),
  v: col(1),
  w: col(2),
  label: Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 'even' : 'odd')),
  count: Int32Array.from({ length: n }, (_, i) => i),
  with_nan: col(3, 150),
});
const props = new pq.WriterPropertiesBuilder()
  .setMaxRowGroupSize(64)
  .setCompression(pq.Compression.SNAPPY)
  .build();
const bytes = pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), props);
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'series.parquet');
writeFileSync(out, bytes);
console.log(`wrote ${out} (${bytes.length} bytes)`);

// GZIP, which hyparquet decodes through the node:zlib decompressor that @sdekit/io passes it.
const small = arrow.tableFromArrays({
  time: table.getChild('time').toArray().slice(0, 50),
  u: col(0).slice(0, 50),
});
const gzipProps = new pq.WriterPropertiesBuilder().setCompression(pq.Compression.GZIP).build();
const gz = pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(small, 'stream')), gzipProps);
writeFileSync(out.replace('series.parquet', 'series-gzip.parquet'), gz);
console.log(`wrote series-gzip.parquet (${gz.length} bytes)`);
