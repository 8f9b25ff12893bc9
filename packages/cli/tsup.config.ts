import { defineConfig } from 'tsup';
import { libraryOptions } from '../../tsup.shared';

export default defineConfig({
  ...libraryOptions,
  // index: the library (selectBackend, io, main); bin: the `sdekit` executable (keeps its shebang and
  // is made executable by tsup).
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  dts: { entry: { index: 'src/index.ts' } },
  // The ESM-only d3 modules are bundled so that the CJS build loads too.
  noExternal: [/^d3-/],
});
