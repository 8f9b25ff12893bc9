// Where sde's tests find the models they integrate. @sdekit/systems depends on @sdekit/sde, so sde
// cannot declare it back (the package graph stays acyclic); its tests import the models from the
// sibling's sources (the vitest alias and the tsconfig paths map '@sdekit/systems' there), and
// worker threads, which resolve modules on their own, load them by file URL.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** File URL of @sdekit/systems' sources, for `{ module, exportName }` specs of simulateParallel. */
export const systemsModule = new URL('../../systems/src/index.ts', import.meta.url).href;

/** Path of the built @sdekit/systems (ESM), for the tests that run the built packages; may not exist. */
export const systemsDist = fileURLToPath(new URL('../../systems/dist/index.js', import.meta.url));

/** Whether @sdekit/systems has been built (`npx tsup` there, or the monorepo build). */
export const systemsBuilt = existsSync(systemsDist);
