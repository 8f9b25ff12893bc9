import { defineConfig } from 'tsup';
import { baseOptions } from '../tsup.shared';

// The suite's binary (sdekit-bench). Workspace packages and npm dependencies stay external.
export default defineConfig({
  ...baseOptions,
  entry: ['src/cli.ts', 'src/case-worker.ts'],
  format: ['esm'],
  dts: false,
});
