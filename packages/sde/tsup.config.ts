import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';
import { libraryOptions } from '../../tsup.shared';

export default defineConfig({
  ...libraryOptions,
  // import.meta.url in the CJS build (simulateParallel locates its worker entry next to the bundle).
  shims: true,
  // The worker entry of simulateParallel is plain ESM JavaScript shipped next to the bundle.
  async onSuccess() {
    await copyFile('src/simulate-worker.mjs', 'dist/simulate-worker.mjs');
  },
});
