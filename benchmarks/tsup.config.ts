import { defineConfig } from 'tsup';

// The suite's binary (sdekit-bench). Workspace packages and npm dependencies stay external.
export default defineConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
