import { describe, expect, it } from 'vitest';
import {
  eulerMaruyama,
  InvalidArgumentError,
  milstein,
  registeredSolvers,
  registerSolver,
  type SdeSystem,
  simulate,
  simulateParallel,
  solverByName,
  sra1,
} from '../src/index.js';
import { renamedEuler } from './custom-solver.js';
import { systemsModule } from './systems-module.js';

const customModule = new URL('./custom-solver.ts', import.meta.url).href;

/** dX = -X dt + g(X) dW, with g constant (additive) or 1 + X^2 / 10. */
function ou(additive: boolean): SdeSystem {
  return {
    dim: 1,
    noiseDim: 1,
    noise: 'diagonal',
    additive,
    drift: (_t, x, out) => {
      out[0] = -x[0];
    },
    diffusion: (_t, x, out) => {
      out[0] = additive ? 0.5 : 0.5 * (1 + 0.1 * x[0] * x[0]);
    },
  };
}

describe('solvers: order for a system, own state, the registry', () => {
  it('state their order for the system at hand', () => {
    expect(eulerMaruyama.order(ou(true))).toEqual({ strong: 1, weak: 1 });
    expect(eulerMaruyama.order(ou(false))).toEqual({ strong: 0.5, weak: 1 });
    expect(milstein.order(ou(false))).toEqual({ strong: 1, weak: 1 });
    expect(sra1.order(ou(true))).toEqual({ strong: 1.5, weak: 2 });
  });

  it('allocate their own state (init) for n points', () => {
    const ws = sra1.init(ou(true), 7);
    expect([ws.n, ws.f.length, ws.f2.length, ws.constantG]).toEqual([7, 7, 7, true]);
  });

  it('are found by name; a taken name or an unknown one is refused', () => {
    expect(registeredSolvers()).toEqual(expect.arrayContaining(['euler-maruyama', 'milstein', 'sra1']));
    expect(solverByName('milstein')).toBe(milstein);
    expect(() => solverByName('rk4')).toThrow(/no solver is registered as 'rk4'.*euler-maruyama/s);
    expect(() => registerSolver({ ...milstein })).toThrow(InvalidArgumentError);
  });

  it('a registered custom solver runs on worker threads, bit for bit as in simulate', async () => {
    const spec = { module: systemsModule, exportName: 'fourWellSystem' };
    const opts = { x0: Float64Array.of(0.2, -0.3), paths: 300, h: 1e-3, steps: 60, saveEvery: 20, seed: 5 };
    // Unregistered, or registered without a module: workers cannot load it, and the error says how.
    await expect(simulateParallel(spec, { ...opts, solver: renamedEuler, threads: 2 })).rejects.toThrow(
      /registerSolver/,
    );
    registerSolver(renamedEuler, { module: customModule, exportName: 'renamedEuler' });
    expect(solverByName('renamed-euler')).toBe(renamedEuler);
    const onWorkers = await simulateParallel(spec, { ...opts, solver: renamedEuler, threads: 2 });
    const { fourWellSystem } = await import(spec.module);
    const serial = simulate(fourWellSystem(), opts);
    expect(onWorkers.data.every((v, i) => v === serial.data[i])).toBe(true);
  });
});
