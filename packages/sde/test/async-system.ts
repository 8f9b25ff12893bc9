// A system module for the simulateParallel tests: an async factory, as one that first loads a
// TensorFlow.js backend would be, whose systems count their dispose() calls (in this thread).

import { fourWellSystem } from '@sdekit/systems';
import type { SdeSystem } from '../src/index.js';

export const disposals = { count: 0 };

export async function fourWellAfterDelay(ms: number): Promise<SdeSystem & { dispose(): void }> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return {
    ...fourWellSystem(),
    dispose: () => {
      disposals.count++;
    },
  };
}
