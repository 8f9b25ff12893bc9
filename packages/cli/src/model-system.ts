/**
 * The system of a saved model (the JSON of `sdekit fit-langevin` or `fit-averaged`, or a library
 * `toJSON()`), rebuilt from the JSON alone so that worker threads can simulate it:
 * `savedModelSystem` is the factory that `simulateParallel` (@sdekit/sde) calls in every worker
 * (it selects the TensorFlow.js backend there first), and `savedModelSystemSpec` names it.
 *
 * @example
 * import { savedModelSystemSpec } from '@sdekit/cli';
 * import { simulateParallel } from '@sdekit/sde';
 * const json = JSON.parse(await readFile('model.json', 'utf8'));
 * const paths = await simulateParallel(savedModelSystemSpec(json, { backend: 'wasm' }), {
 *   x0, paths: 50, h: 0.002, T: 100, saveEvery: 50, seed: 1, chunkPaths: 50, threads: 4,
 * });
 */
import {
  AVERAGED_MODEL_FORMAT,
  AveragedModel,
  type AveragedModelJSON,
  checkAveragedModelJson,
} from '@sdekit/averaging';
import { LangevinModel, type LangevinModelJSON } from '@sdekit/score';
import { InvalidArgumentError, type SdeSystem, type SystemSpec } from '@sdekit/sde';
import { type BackendPreference, selectBackend } from './backend.js';
import { loadCoefficientsModule } from './commands/model-file.js';

/** `format` of a saved Langevin model. */
export const LANGEVIN_MODEL_FORMAT = 'sdekit.langevin-model';

/** How a saved model becomes a system. */
export interface SavedModelSystemOptions {
  /** TensorFlow.js backend that `savedModelSystem` selects first (default 'auto'). */
  backend?: BackendPreference;
  /** Averaged models: fast samples in the averaged coefficients (default 512). */
  samples?: number;
  /** Averaged models: seed of those fast samples (default 0). */
  samplesSeed?: number;
  /** Averaged models with user-defined coefficients: absolute path of the coefficients module. */
  coefficientsModule?: string;
  /** How the coefficients module is named in errors (default: its path). */
  coefficientsLabel?: string;
}

/** A model built from its JSON: which kind, its system and dimension, and how to free its tensors. */
export interface SavedModel {
  kind: 'langevin' | 'averaged';
  system: SdeSystem;
  dim: number;
  /** Langevin models: the box simulations are watched against (the data's range); null otherwise. */
  watch: { lo: Float64Array; hi: Float64Array } | null;
  dispose(): void;
}

/**
 * Builds a saved model from its JSON on the current backend: a Langevin model (its score must be
 * stored in the file) or an averaged model (built-in coefficients, or `coefficientsModule`).
 */
export async function loadSavedModel(
  json: Record<string, unknown>,
  options: SavedModelSystemOptions = {},
): Promise<SavedModel> {
  if (json === null || typeof json !== 'object') {
    throw new InvalidArgumentError('json', 'is not an object', 'pass the parsed JSON of a saved model');
  }
  if (json.format === LANGEVIN_MODEL_FORMAT) {
    const saved = json as unknown as LangevinModelJSON;
    if (saved.score?.format === 'external') {
      throw new InvalidArgumentError(
        'json',
        'was fitted with a caller-supplied score, which it does not contain',
        'build the system with LangevinModel.fromJSON(json, { score })',
      );
    }
    const model = LangevinModel.fromJSON(saved);
    return {
      kind: 'langevin',
      system: model.system(),
      dim: model.dim,
      watch: model.watchBox(),
      dispose: () => model.dispose(),
    };
  }
  if (json.format === AVERAGED_MODEL_FORMAT) {
    const saved = json as unknown as AveragedModelJSON;
    const path = options.coefficientsModule;
    if (saved.coefficients === null && path === undefined) {
      throw new InvalidArgumentError(
        'coefficientsModule',
        'is missing, but the model uses user-defined coefficients',
        'pass the absolute path of its coefficients module',
      );
    }
    // Every field checked (FormatError naming it) before a coefficients module is imported for it.
    checkAveragedModelJson(saved);
    const coefficients =
      saved.coefficients === null && path !== undefined
        ? await loadCoefficientsModule(path, options.coefficientsLabel ?? path, {
            slowDim: saved.slowDim,
            fastDim: saved.fastDim,
          })
        : undefined;
    const model = AveragedModel.fromJSON(saved, { coefficients });
    return {
      kind: 'averaged',
      system: model.system({ fastSamples: options.samples ?? 512, seed: options.samplesSeed ?? 0 }),
      dim: model.slowDim,
      watch: null,
      dispose: () => model.dispose(),
    };
  }
  throw new InvalidArgumentError(
    'json.format',
    `is '${String(json.format)}'`,
    `pass a model with format '${LANGEVIN_MODEL_FORMAT}' or '${AVERAGED_MODEL_FORMAT}'`,
  );
}

/**
 * The factory that `simulateParallel` calls in every worker (and once in the calling thread, to
 * plan): selects `options.backend`, then builds the model's system (`loadSavedModel`). The system's
 * `dispose()` frees the model's tensors; `simulateParallel` calls it when done with the system.
 */
export async function savedModelSystem(
  json: Record<string, unknown>,
  options: SavedModelSystemOptions = {},
): Promise<SdeSystem & { dispose(): void }> {
  await selectBackend(options.backend ?? 'auto');
  const model = await loadSavedModel(json, options);
  return Object.assign(model.system, { dispose: model.dispose });
}

/**
 * The `simulateParallel` spec of a saved model: this module's `savedModelSystem` with the JSON and
 * options as arguments. Built packages load the ESM module next to the bundle (dist/ is flat); the
 * TypeScript sources (tests) load this file.
 */
export function savedModelSystemSpec(
  json: Record<string, unknown>,
  options: SavedModelSystemOptions = {},
): SystemSpec {
  const self = import.meta.url;
  const fromSources = /\.[cm]?ts$/.test(new URL(self).pathname);
  return {
    module: new URL(fromSources ? './model-system.ts' : './model-system.js', self).href,
    exportName: 'savedModelSystem',
    args: [json, options],
  };
}
