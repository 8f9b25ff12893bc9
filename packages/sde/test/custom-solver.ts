// A solver defined outside @sdekit/sde, for the registry tests: Euler-Maruyama under another name
// (so its paths must equal eulerMaruyama's bit for bit), loaded by worker threads from this file.
import { eulerMaruyama, type Solver } from '../src/index.js';

export const renamedEuler: Solver = { ...eulerMaruyama, name: 'renamed-euler' };
