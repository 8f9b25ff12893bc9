// Shared vitest settings: tests import sibling packages from their TypeScript sources, so a test run
// needs no prior build (the build is checked separately by `pnpm build`).
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const pkgs = [
  'sde',
  'systems',
  'ks-solver',
  'partition',
  'io',
  'flows',
  'score',
  'averaging',
  'vi',
  'nn',
  'cli',
];

export const sdekitAlias: Record<string, string> = Object.fromEntries(
  pkgs.map((p) => [`@sdekit/${p}`, `${root}packages/${p}/src/index.ts`]),
);

export const sharedTestConfig = {
  resolve: { alias: sdekitAlias },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks' as const,
  },
};
