import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the library (selectBackend, io, main); bin: the `sdekit` executable (keeps its shebang and
  // is made executable by tsup).
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The sdekit packages and TensorFlow.js stay external (one tfjs-core instance shared with the
  // user's coefficients module); the ESM-only d3 modules are bundled so the CJS build loads too.
  external: [/^@tensorflow\//, /^@sdekit\//],
  noExternal: [/^d3-/],
});
