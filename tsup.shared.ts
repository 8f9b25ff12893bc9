// The one tsup setup of every publishable package: ESM + CJS + declarations for Node 20. Sibling
// @sdekit packages and TensorFlow.js stay external, so a user's program holds one tfjs-core instance
// (its kernel and gradient registries are shared) and one copy of each sdekit package.
import type { Options } from 'tsup';

export const libraryOptions: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: [/^@tensorflow\//, /^@sdekit\//],
};
