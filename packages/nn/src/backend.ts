/**
 * The one place where an sdekit application chooses its TensorFlow.js backend. Library code imports
 * only `@tensorflow/tfjs-core` and never a backend; an application (the `sdekit` CLI, the benchmark
 * suite, a user's script) calls `useBackend()` (or `selectBackend` for the details) once before
 * training anything. Importing this module loads no backend: the backends are imported when the
 * function is called.
 *
 * Order for 'auto': the native `@tensorflow/tfjs-node` where it is installed (an optional
 * dependency: it downloads libtensorflow at install time, so it is absent on machines without
 * internet), else `@tensorflow/tfjs-backend-wasm` (SIMD + threads where Node allows), else
 * `@tensorflow/tfjs-backend-cpu` (plain JavaScript, always available).
 *
 * Gradients: in Node, tfjs-core alone registers no gradient kernels; importing the
 * `@tensorflow/tfjs` bundle registers them (and the cpu backend), so this function does it first.
 */

import { InvalidArgumentError } from '@sdekit/sde';
import * as tf from '@tensorflow/tfjs-core';

/** A backend the caller may ask for; 'auto' tries node, then wasm, then cpu. */
export type BackendPreference = 'node' | 'wasm' | 'cpu' | 'auto';

/** What `selectBackend` did, for reports. */
export interface BackendSelection {
  /** Name of the active tfjs backend: 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
  readonly name: string;
  /** The preference that was asked for. */
  readonly requested: BackendPreference;
  /** Backends that were tried and could not be used, with the reason (empty when the first one worked). */
  readonly skipped: ReadonlyArray<{ readonly backend: string; readonly reason: string }>;
}

const PREFERENCES: readonly BackendPreference[] = ['node', 'wasm', 'cpu', 'auto'];

/** Loads a backend module by name; returns the tfjs backend name it registers. */
async function loadBackend(kind: 'node' | 'wasm' | 'cpu'): Promise<string> {
  if (kind === 'node') {
    // Optional dependency: a module specifier kept in a variable so bundlers and type checking do
    // not require it to be installed.
    const spec = '@tensorflow/tfjs-node';
    await import(spec);
    return 'tensorflow';
  }
  if (kind === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    return 'wasm';
  }
  await import('@tensorflow/tfjs-backend-cpu');
  return 'cpu';
}

/**
 * Chooses and activates the TensorFlow.js backend for an application and registers the gradient
 * kernels. Resolves to the selection (active backend name, what was skipped and why).
 *
 * - 'auto' (default; the environment variable SDEKIT_TF_BACKEND overrides it when set to one of
 *   node|wasm|cpu): tfjs-node if installed, else wasm, else cpu.
 * - 'node' | 'wasm' | 'cpu': exactly that backend, or an InvalidArgumentError saying why it cannot
 *   be used (nothing silently falls back when a backend is named explicitly).
 *
 * @example
 * import { selectBackend } from '@sdekit/nn';
 * const { name } = await selectBackend('auto'); // 'tensorflow', 'wasm' or 'cpu'
 * console.log(`training on ${name}`);
 */
export async function selectBackend(preference: BackendPreference = 'auto'): Promise<BackendSelection> {
  if (!PREFERENCES.includes(preference)) {
    throw new InvalidArgumentError(
      'preference',
      `unknown backend '${String(preference)}'`,
      "pass 'node', 'wasm', 'cpu' or 'auto'",
    );
  }
  let requested = preference;
  const env = process.env.SDEKIT_TF_BACKEND;
  if (requested === 'auto' && env !== undefined && env !== '' && env !== 'auto') {
    if (!PREFERENCES.includes(env as BackendPreference)) {
      throw new InvalidArgumentError(
        'SDEKIT_TF_BACKEND',
        `unknown backend '${env}'`,
        'set it to node, wasm, cpu or auto, or unset it',
      );
    }
    requested = env as BackendPreference;
  }
  // The bundle registers every gradient kernel (and the cpu backend) as a side effect.
  await import('@tensorflow/tfjs');
  const order: Array<'node' | 'wasm' | 'cpu'> = requested === 'auto' ? ['node', 'wasm', 'cpu'] : [requested];
  const skipped: Array<{ backend: string; reason: string }> = [];
  for (const kind of order) {
    try {
      const name = await loadBackend(kind);
      const ok = await tf.setBackend(name);
      if (!ok) throw new Error(`tf.setBackend('${name}') returned false (initialisation failed)`);
      await tf.ready();
      return { name: tf.getBackend(), requested: preference, skipped };
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      if (requested !== 'auto') {
        throw new InvalidArgumentError(
          'preference',
          `backend '${kind}' cannot be used (${reason})`,
          "install it, or pass 'auto'",
        );
      }
      skipped.push({ backend: kind, reason });
    }
  }
  // Unreachable in practice: the cpu backend ships with @tensorflow/tfjs.
  throw new InvalidArgumentError(
    'preference',
    `no backend could be loaded (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`,
    'install @tensorflow/tfjs-backend-cpu',
  );
}

/**
 * Sets up TensorFlow.js for sdekit in one call: registers the gradient kernels, activates tfjs-node
 * where it is installed, else wasm, else cpu (or exactly the backend asked for), waits until it is
 * ready and resolves to its name. Call it once before fitting anything.
 *
 * @example
 * import { useBackend } from '@sdekit/nn';
 * const backend = await useBackend(); // 'tensorflow', 'wasm' or 'cpu'
 */
export async function useBackend(preference: BackendPreference = 'auto'): Promise<string> {
  return (await selectBackend(preference)).name;
}

/**
 * The preference that selects an active backend again (e.g. in a worker thread): 'tensorflow'
 * (tfjs-node) -> 'node', 'wasm' -> 'wasm', 'cpu' -> 'cpu'.
 *
 * @example
 * const { name } = await selectBackend('auto');
 * const again = backendPreference(name); // pass to a worker's selectBackend
 */
export function backendPreference(name: string): Exclude<BackendPreference, 'auto'> {
  if (name === 'tensorflow') return 'node';
  if (name === 'wasm' || name === 'cpu') return name;
  throw new InvalidArgumentError(
    'name',
    `'${name}' is not a backend selectBackend loads`,
    "pass the name selectBackend returned: 'tensorflow', 'wasm' or 'cpu'",
  );
}
