import { readFileSync } from 'node:fs';
import '@tensorflow/tfjs';
import { LangevinModel } from '@sdekit/score';
import * as sde from '@sdekit/sde';
for (const f of ['results/full-t12/models/T1-langevin.json', 'results/quick/models/T1-langevin.json']) {
  const m = LangevinModel.fromJSON(JSON.parse(readFileSync(f, 'utf8')));
  const xs = Float64Array.from([-0.4, -0.3, -0.2, -0.1, 0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2, 3]);
  const sys = m.system();
  const out = new Float64Array(xs.length);
  const drift = xs.map((x) => { const o = new Float64Array(1); sys.drift(0, new Float64Array([x]), o); return o[0]; });
  console.log(f, 'phi', m.phi.data[0]);
  console.log(Array.from(xs).map((x, i) => `${x}:${drift[i].toFixed(3)}/${(-0.04 - 1.8091667*x - 0.0666667*x*x - 0.1666667*x**3).toFixed(3)}`).join(' '));
}
