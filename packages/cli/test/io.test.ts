import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@sdekit/sde';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  atomicWrite,
  atomicWriteSync,
  CsvParser,
  DataFormatError,
  decodeNpy,
  encodeNpy,
  formatCsv,
  parseCsv,
  readCsv,
  readNpy,
  writeCsv,
  writeNpy,
} from '../src/io';

// Reference bytes written by numpy 2.4 (np.save / numpy.lib.format.write_array) for
// a = [[1.5, -2, 3.25], [4, 5.5, -6.125]] in several layouts; our encoder/decoder must agree byte for byte.
const NP_C64 =
  '934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000f83f00000000000000c00000000000000a400000000000001040000000000000164000000000008018c0';
const NP_F32_FORTRAN =
  '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a20547275652c20277368617065273a2028322c2033292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000c03f00008040000000c00000b040000050400000c4c0';
const NP_BE64 =
  '934e554d5059010076007b276465736372273a20273e6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a3ff8000000000000c000000000000000400a00000000000040100000000000004016000000000000c018800000000000';
const NP_V2 =
  '934e554d50590200740000007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000f83f00000000000000c00000000000000a400000000000001040000000000000164000000000008018c0';
const NP_I64 =
  '934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a01000000000000000200000000000000';
const NP_1D =
  '934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a9a9999999999b93f9a9999999999c93f';

const A = [1.5, -2, 3.25, 4, 5.5, -6.125];
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdekit-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npy', () => {
  it('encodes exactly the bytes numpy writes (v1 header, C order, <f8)', () => {
    expect(hex(encodeNpy(Float64Array.from(A), [2, 3]))).toBe(NP_C64);
    expect(hex(encodeNpy(new Float64Array([0.1, 0.2]), [2]))).toBe(NP_1D);
  });

  it('decodes numpy files: C/Fortran order, both byte orders, header v2', () => {
    for (const h of [NP_C64, NP_BE64, NP_V2]) {
      const r = decodeNpy(bytes(h));
      expect(r.dtype).toBe('float64');
      expect(r.shape).toEqual([2, 3]);
      expect(Array.from(r.data)).toEqual(A);
    }
    const f = decodeNpy(bytes(NP_F32_FORTRAN));
    expect(f.dtype).toBe('float32');
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f.data)).toEqual(A); // Fortran data transposed to C order
    expect(decodeNpy(bytes(NP_1D)).shape).toEqual([2]);
  });

  it('parses a hand-built header with odd spacing and key order', () => {
    const dict = "{'shape':(2,1),  'fortran_order' : False,'descr':'<f4'}";
    const len = Math.ceil((10 + dict.length + 1) / 16) * 16 - 10;
    const head = `${dict}${' '.repeat(len - dict.length - 1)}\n`;
    const buf = new Uint8Array(10 + len + 8);
    buf.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(buf.buffer).setUint16(8, len, true);
    for (let i = 0; i < head.length; i++) buf[10 + i] = head.charCodeAt(i);
    new DataView(buf.buffer).setFloat32(10 + len, 0.5, true);
    new DataView(buf.buffer).setFloat32(10 + len + 4, -3, true);
    const r = decodeNpy(buf);
    expect(r.shape).toEqual([2, 1]);
    expect(Array.from(r.data)).toEqual([0.5, -3]);
  });

  it('rejects non-float dtypes, bad magic and truncated data with a DataFormatError', () => {
    expect(() => decodeNpy(bytes(NP_I64), 'ints.npy')).toThrow(/ints\.npy.*dtype '<i8' is not supported/);
    expect(() => decodeNpy(new Uint8Array(20))).toThrow(DataFormatError);
    expect(() => decodeNpy(bytes(NP_C64).subarray(0, 130))).toThrow(/data section has/);
    expect(() => encodeNpy(new Float64Array(5), [2, 3])).toThrow(/holds 6 values but data has 5/);
  });

  it('round-trips random float64 and float32 arrays through files (bit-exact)', async () => {
    const rng = Rng.fromSeed(7);
    const x = new Float64Array(3 * 5 * 4);
    rng.fillNormal(x);
    x[0] = -0; // signed zero and extremes survive
    x[1] = Number.MAX_VALUE;
    x[2] = 5e-324;
    const p = join(dir, 'x.npy');
    await writeNpy(p, x, [3, 5, 4]);
    const r = await readNpy(p);
    expect(r.shape).toEqual([3, 5, 4]);
    expect(Buffer.from(r.data.buffer).equals(Buffer.from(x.buffer))).toBe(true);
    const y = Float32Array.from(x.subarray(3));
    await writeNpy(p, y, [y.length]);
    const s = await readNpy(p);
    expect(s.dtype).toBe('float32');
    expect(Array.from(s.data)).toEqual(Array.from(y));
    // large header forces nothing odd: header is padded to a multiple of 64 bytes
    const enc = encodeNpy(new Float64Array(0), [0, 7]);
    expect(enc.length % 64).toBe(0);
    expect(decodeNpy(enc).shape).toEqual([0, 7]);
  });
});

describe('csv', () => {
  it('reads with and without a header, skipping comments and blank lines', () => {
    const t = parseCsv('# a comment\nx, y\n1,2\n\n-3.5e-1,4\r\n');
    expect(t.header).toEqual(['x', 'y']);
    expect(t.rows).toBe(2);
    expect(t.cols).toBe(2);
    expect(Array.from(t.data)).toEqual([1, 2, -0.35, 4]);
    const u = parseCsv('1;2;3\n4;5;6', { delimiter: ';' });
    expect(u.header).toBeNull();
    expect([u.rows, u.cols]).toEqual([2, 3]);
    expect(parseCsv('1,2\n3,4', { header: true }).header).toEqual(['1', '2']);
  });

  it('reports ragged rows with line and column', () => {
    try {
      parseCsv('a,b\n1,2\n3\n', { source: 'f.csv' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DataFormatError);
      const err = e as DataFormatError;
      expect([err.line, err.column]).toEqual([3, 2]);
      expect(err.message).toMatch(/f\.csv line 3, column 2: row has 1 fields, expected 2/);
    }
  });

  it('reports non-numeric, empty, hex and non-finite cells with line and column', () => {
    const cases: Array<[string, number, number]> = [
      ['1,2\n3,abc\n', 2, 2],
      ['1,2\n,4\n', 2, 1],
      ['1,2\n3,0x10\n', 2, 2],
      ['1,nan\n', 1, 2],
      ['x,y\n1,Infinity\n', 2, 2],
    ];
    for (const [text, line, column] of cases) {
      let caught: unknown;
      try {
        parseCsv(text);
      } catch (e) {
        caught = e;
      }
      expect(caught, text).toBeInstanceOf(DataFormatError);
      expect([(caught as DataFormatError).line, (caught as DataFormatError).column], text).toEqual([
        line,
        column,
      ]);
    }
    expect(() => parseCsv('x,y\n')).toThrow(/no data rows/);
  });

  it('round-trips float64 values exactly through a file', async () => {
    const rng = Rng.fromSeed(11);
    const x = new Float64Array(50 * 3);
    rng.fillNormal(x, 0, 1e3);
    const p = join(dir, 't.csv');
    await writeCsv(p, x, 3, ['a', 'b', 'c']);
    const t = await readCsv(p);
    expect(t.header).toEqual(['a', 'b', 'c']);
    expect(Array.from(t.data)).toEqual(Array.from(x));
    expect(formatCsv(new Float64Array([1, 2, 3, 4]), 2, ['x', 'y'])).toBe('x,y\n1,2\n3,4\n');
    expect(() => formatCsv(new Float64Array([1, Number.NaN]), 2)).toThrow(/element 1 is NaN/);
  });
});

describe('streaming readers', () => {
  it('readNpy streams in chunks of any size: same bits, every layout, progress up to the file size', async () => {
    for (const [name, h] of [
      ['c64', NP_C64],
      ['fortran32', NP_F32_FORTRAN],
      ['be64', NP_BE64],
      ['v2', NP_V2],
    ] as const) {
      const p = join(dir, `${name}.npy`);
      await writeFile(p, bytes(h));
      const whole = decodeNpy(bytes(h));
      for (const chunkBytes of [1, 3, 7, 4096]) {
        const seen: number[] = [];
        const r = await readNpy(p, { chunkBytes, onProgress: (done, total) => seen.push(done / total) });
        expect(r.shape).toEqual(whole.shape);
        expect(r.dtype).toBe(whole.dtype);
        expect(Array.from(r.data)).toEqual(Array.from(whole.data));
        expect(Array.from(r.data)).toEqual(A.map((v) => (whole.dtype === 'float32' ? Math.fround(v) : v)));
        expect(seen.at(-1)).toBe(1);
        expect(seen.every((v, i) => i === 0 || v >= seen[i - 1])).toBe(true);
      }
    }
    // A header longer than the first read (4096 bytes): a shape with many entries.
    const shape = [1, ...Array.from({ length: 900 }, () => 1), 3];
    const x = Float64Array.of(1, 2, 3);
    await writeNpy(join(dir, 'long-header.npy'), x, shape);
    const r = await readNpy(join(dir, 'long-header.npy'), { chunkBytes: 5 });
    expect(r.shape).toEqual(shape);
    expect(Array.from(r.data)).toEqual([1, 2, 3]);
  });

  it('readNpy reports a truncated or padded file and a bad chunk size, naming the source', async () => {
    const p = join(dir, 'cut.npy');
    await writeFile(p, bytes(NP_C64).subarray(0, 140));
    await expect(readNpy(p, { source: 'mine.npy' })).rejects.toThrow(
      /^mine\.npy: data section has 12 bytes, shape \[2, 3\] needs 48/,
    );
    await writeFile(p, Buffer.concat([bytes(NP_C64), Buffer.alloc(8)]));
    await expect(readNpy(p)).rejects.toThrow(/data section has 56 bytes/);
    await writeFile(p, bytes(NP_C64).subarray(0, 60));
    await expect(readNpy(p)).rejects.toThrow(/truncated \.npy header/);
    await expect(readNpy(join(dir, 'c64.npy'), { chunkBytes: 0 })).rejects.toThrow(/chunkBytes/);
  });

  it('CsvParser gives the same table and the same error lines whatever the chunking', () => {
    const rng = Rng.fromSeed(5);
    const x = new Float64Array(300 * 3);
    rng.fillNormal(x);
    const text = `# comment\r\n${formatCsv(x, 3, ['a', 'b', 'c']).replace(/\n/g, (m, i) => (i % 7 === 0 ? '\r\n' : m))}\n\n`;
    const whole = parseCsv(text);
    expect(Array.from(whole.data)).toEqual(Array.from(x));
    for (const size of [1, 2, 13, 1000]) {
      const parser = new CsvParser();
      for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size));
      const t = parser.finish();
      expect(t.rows).toBe(300);
      expect(t.header).toEqual(['a', 'b', 'c']);
      expect(Array.from(t.data)).toEqual(Array.from(x));
    }
    const cut = text.indexOf('\n', 200) + 1;
    const bad = `${text.slice(0, cut)}1,2,oops\n${text.slice(cut)}`;
    const lineOf = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as DataFormatError).line;
      }
      return -1;
    };
    const expected = lineOf(() => parseCsv(bad));
    expect(expected).toBe(bad.slice(0, bad.indexOf('oops')).split('\n').length);
    for (const size of [1, 5, 64]) {
      const parser = new CsvParser();
      expect(
        lineOf(() => {
          for (let i = 0; i < bad.length; i += size) parser.push(bad.slice(i, i + size));
          parser.finish();
        }),
      ).toBe(expected);
    }
  });

  it('readCsv streams a file in chunks (multi-byte characters split across reads) with progress', async () => {
    const rng = Rng.fromSeed(6);
    const x = new Float64Array(300 * 2);
    rng.fillNormal(x);
    const p = join(dir, 'stream.csv');
    await writeCsv(p, x, 2, ['über', 'ψ']);
    const size = (await readFile(p)).length;
    for (const chunkBytes of [7, 1000, 1 << 20]) {
      let last = 0;
      const t = await readCsv(p, {
        chunkBytes,
        onProgress: (done, total) => {
          expect(total).toBe(size);
          expect(done).toBeGreaterThan(last);
          last = done;
        },
      });
      expect(last).toBe(size);
      expect(t.header).toEqual(['über', 'ψ']);
      expect(Array.from(t.data)).toEqual(Array.from(x));
    }
  });
});

describe('atomicWrite', () => {
  it('replaces the target and leaves no temporary files', async () => {
    const p = join(dir, 'a.json');
    await atomicWrite(p, 'old');
    await atomicWrite(p, 'new');
    expect(await readFile(p, 'utf8')).toBe('new');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(atomicWrite(join(dir, 'missing-dir', 'x'), 'x')).rejects.toThrow();
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('has a synchronous twin with the same guarantees', async () => {
    const p = join(dir, 'b.json');
    atomicWriteSync(p, 'old');
    atomicWriteSync(p, 'new');
    expect(await readFile(p, 'utf8')).toBe('new');
    expect(() => atomicWriteSync(join(dir, 'missing-dir', 'x'), 'x')).toThrow();
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
