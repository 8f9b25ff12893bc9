// Worker entry of simulateParallel (@sdekit/sde). Plain ESM JavaScript so that it runs unchanged
// from the built package (dist/) and from the TypeScript sources under a test runner, where the
// sources are loaded through tsx. It imports the sdekit core and the system module, integrates its
// share of the paths with the same code as `simulate`, and posts the saved states back.
import { parentPort, workerData } from 'node:worker_threads';

async function main() {
  const {
    coreUrl,
    systemUrl,
    exportName,
    args,
    useTsx,
    plan,
    solverUrl,
    solverExport,
    solverName,
    x0,
    pathStart,
    pathCount,
    dim,
  } = workerData;
  if (useTsx) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  const core = await import(coreUrl);
  const mod = systemUrl === coreUrl ? core : await import(systemUrl);
  const factory = mod[exportName];
  const system = core.asSdeSystem(typeof factory === 'function' ? await factory(...args) : factory);
  const solverModule = solverUrl === coreUrl ? core : await import(solverUrl);
  const solver = solverModule[solverExport];
  if (!solver || solver.name !== solverName)
    throw new Error(`solver: ${solverUrl} exports no solver '${solverName}' as ${solverExport}`);
  const out = new Float64Array(pathCount * plan.length * dim);
  let last = 0;
  try {
    core.integrateRange(system, plan, solver, x0, pathStart, pathCount, out, (done) => {
      if (done !== last) {
        last = done;
        parentPort.postMessage({ type: 'progress', done });
      }
    });
  } finally {
    system.dispose?.();
  }
  parentPort.postMessage({ type: 'done', data: out }, [out.buffer]);
}

main().catch((error) => {
  const e = error ?? {};
  parentPort.postMessage({
    type: 'error',
    name: e.name,
    message: e.message ?? String(error),
    time: e.time,
    path: e.path,
    argument: e.argument,
    coordinate: e.coordinate,
    value: e.value,
  });
});
