// Training steps/s on the pure-JS cpu backend. Run: npx vitest bench --run bench/train-cpu.bench.ts
import * as tf from '@tensorflow/tfjs-core';
import { trainingBenches } from './train.js';

await tf.setBackend('cpu');
await tf.ready();
trainingBenches('cpu');
