// Training steps/s on the wasm backend. Run: npx vitest bench --run bench/train-wasm.bench.ts
import * as tf from '@tensorflow/tfjs-core';
import { trainingBenches } from './train.js';

await tf.setBackend('wasm');
await tf.ready();
trainingBenches('wasm');
