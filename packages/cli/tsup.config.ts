import { defineConfig } from 'tsup';
import { libraryOptions } from '../../tsup.shared';

export default defineConfig({
  ...libraryOptions,
  // index: the library (selectBackend, io, main); bin: the `sdekit` executable (keeps its shebang and
  // is made executable by tsup).
  // model-system: the module simulateParallel's workers import (savedModelSystemSpec names it).
  entry: { index: 'src/index.ts', bin: 'src/bin.ts', 'model-system': 'src/model-system.ts' },
  // import.meta.url in the CJS build (savedModelSystemSpec locates dist/model-system.js).
  shims: true,
  dts: { entry: { index: 'src/index.ts' } },
  // The ESM-only d3 modules are bundled so that the CJS build loads too.
  noExternal: [/^d3-/],
});
