// Test setup for packages that train networks: the @tensorflow/tfjs bundle registers the gradient
// kernels (tfjs-core alone has none in Node) and the cpu backend; wasm is registered too. SDEKIT_TF_BACKEND picks one ('wasm' default: about 2.7x faster than 'cpu' here, or 'cpu').
// Library code never imports a backend; only applications and tests do (architecture.md).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

const backend = process.env.SDEKIT_TF_BACKEND ?? 'wasm';
await tf.setBackend(backend);
await tf.ready();
