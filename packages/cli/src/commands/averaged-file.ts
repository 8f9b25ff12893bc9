/**
 * Averaged models and their posteriors as files of the `sdekit` commands: an averaged model file of
 * fit-averaged loaded as an AveragedModel (its coefficients module found through the file), and the
 * posterior file of `sdekit posterior` (AveragedPosterior.toJSON() of @sdekit/vi plus a `sdekitCli`
 * block that embeds the averaged model, so the file alone rebuilds the posterior), with every field
 * checked (FormatError naming it) before anything is built.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import {
  AVERAGED_MODEL_FORMAT,
  AveragedModel,
  type AveragedModelJSON,
  checkAveragedModelJson,
} from '@sdekit/averaging';
import { FormatError } from '@sdekit/sde';
import { AveragedPosterior } from '@sdekit/vi';
import { FileError, resolvePath } from './files.js';
import { CLI_METADATA_KEY, type CliMetadata, cliMetadata, loadCoefficientsModule } from './model-file.js';
import { type CliIo, UsageError } from './spec.js';

/** `format` of the posterior file (AveragedPosterior.toJSON of @sdekit/vi). */
export const AVERAGED_POSTERIOR_FORMAT = 'sdekit.vi.averaged-posterior';

/** An averaged model built from its file, with what the CLI recorded about it. */
export interface LoadedAveragedModel {
  readonly model: AveragedModel;
  /** The CLI block of the model file (null for a model written by a program). */
  readonly meta: CliMetadata | null;
  /** Absolute path of the coefficients module (null for built-in coefficients). */
  readonly moduleAbs: string | null;
}

/**
 * Builds the AveragedModel of a saved averaged-model JSON. User-defined coefficients come from
 * `coefficients` (a path relative to the working folder, --coefficients) or else the module the file
 * names, relative to `baseDir` (the folder of the file it was read from).
 */
export async function loadAveragedModel(
  io: CliIo,
  shown: string,
  json: Record<string, unknown>,
  baseDir: string,
  coefficients: string | undefined,
): Promise<LoadedAveragedModel> {
  if (json.format !== AVERAGED_MODEL_FORMAT) {
    throw new FileError(
      `MODEL: '${shown}' has format '${String(json.format)}'; expected '${AVERAGED_MODEL_FORMAT}' (a model written by sdekit fit-averaged)`,
    );
  }
  const meta = cliMetadata(json);
  const saved = json as unknown as AveragedModelJSON;
  // Every field checked (FormatError naming it) before a coefficients module is imported for it.
  checkAveragedModelJson(saved);
  let moduleAbs: string | null = null;
  if (saved.coefficients === null) {
    const modulePath = coefficients ?? meta?.coefficientsModule;
    if (modulePath === undefined) {
      throw new UsageError(
        `${shown} uses user-defined coefficients and names no module; pass --coefficients MODULE.js`,
      );
    }
    moduleAbs = coefficients !== undefined ? resolvePath(io, coefficients) : resolve(baseDir, modulePath);
    const coef = await loadCoefficientsModule(moduleAbs, coefficients ?? modulePath, {
      slowDim: saved.slowDim,
      fastDim: saved.fastDim,
    });
    return { model: AveragedModel.fromJSON(saved, { coefficients: coef }), meta, moduleAbs };
  }
  if (coefficients !== undefined) {
    throw new UsageError(
      `${shown} uses built-in coefficients (${saved.coefficients.kind}); drop --coefficients`,
    );
  }
  return { model: AveragedModel.fromJSON(saved), meta, moduleAbs };
}

/** The CLI block of a posterior file. */
export interface PosteriorCliMetadata {
  readonly version: 1;
  readonly command: 'posterior';
  /** The model file as given on the command line. */
  readonly modelFile: string;
  /**
   * The averaged model (its JSON with its own CLI block), its coefficients module relative to the
   * posterior file's folder.
   */
  readonly model: Record<string, unknown>;
  /** DATA as given (several files: joined by ', '). */
  readonly data: string;
  readonly columns: string[];
  readonly samples: number;
  /** The last observed point: `simulate`'s default start (a forecast). */
  readonly lastPoint: number[];
}

/**
 * The averaged model JSON to embed in a posterior file written to folder `outDir`: the model file's
 * JSON with its coefficients module re-expressed relative to `outDir`.
 */
export function embeddedModel(
  json: Record<string, unknown>,
  moduleAbs: string | null,
  outDir: string,
): Record<string, unknown> {
  const meta = cliMetadata(json);
  if (moduleAbs === null || meta === null) {
    if (moduleAbs === null) return json;
    return { ...json, [CLI_METADATA_KEY]: { coefficientsModule: relativeModule(outDir, moduleAbs) } };
  }
  return {
    ...json,
    [CLI_METADATA_KEY]: { ...meta, coefficientsModule: relativeModule(outDir, moduleAbs) },
  };
}

function relativeModule(dir: string, moduleAbs: string): string {
  return relative(dir, moduleAbs).split(sep).join('/');
}

function bad(field: string, detail: string): FormatError {
  return new FormatError('POSTERIOR', `${field} ${detail}`);
}

function numberArray(field: string, v: unknown, length?: number): void {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
    throw bad(field, 'must be an array of finite numbers');
  if (length !== undefined && v.length !== length)
    throw bad(field, `has ${v.length} entries, expected ${length}`);
}

/**
 * Checks a posterior file's JSON field by field (FormatError naming the first bad one): the format
 * and version, the variational posterior, theta_hat, the subspace basis and the embedded model.
 */
export function checkPosteriorJson(json: Record<string, unknown>): void {
  if (json.format !== AVERAGED_POSTERIOR_FORMAT)
    throw bad('format', `is '${String(json.format)}', expected '${AVERAGED_POSTERIOR_FORMAT}'`);
  if (json.version !== 1) throw bad('version', `is ${String(json.version)}, expected 1`);
  const q = json.posterior as Record<string, unknown> | null | undefined;
  if (q === null || typeof q !== 'object') throw bad('posterior', 'must be an object (PosteriorJSON)');
  if (q.format !== 'sdekit.vi.posterior' || q.version !== 1)
    throw bad(
      'posterior.format',
      `is '${String(q.format)}' v${String(q.version)}, expected 'sdekit.vi.posterior' v1`,
    );
  for (const k of ['dim', 'layers', 'rank'] as const) {
    const v = q[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < (k === 'dim' ? 1 : 0))
      throw bad(`posterior.${k}`, `must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  const dim = q.dim as number;
  numberArray('posterior.params', q.params);
  const prior = q.prior as Record<string, unknown> | null | undefined;
  if (prior === null || typeof prior !== 'object') throw bad('posterior.prior', 'must be an object');
  numberArray('posterior.prior.mean', prior.mean, dim);
  numberArray('posterior.prior.std', prior.std, dim);
  if (!Array.isArray(q.elboHistory) || q.elboHistory.some((v) => v !== null && typeof v !== 'number'))
    throw bad('posterior.elboHistory', 'must be an array of numbers (null for skipped steps)');
  if (typeof q.nonFiniteSteps !== 'number') throw bad('posterior.nonFiniteSteps', 'must be a number');
  if (!Array.isArray(q.warnings) || q.warnings.some((w) => typeof w !== 'string'))
    throw bad('posterior.warnings', 'must be an array of strings');
  numberArray('fitted', json.fitted);
  const P = (json.fitted as number[]).length;
  if (json.basis !== undefined) numberArray('basis', json.basis, P * dim);
  else if (dim !== P)
    throw bad('posterior.dim', `is ${dim} without a basis; expected the ${P} fitted parameters`);
  if (json.eigenvalues !== undefined) numberArray('eigenvalues', json.eigenvalues);
  const meta = json[CLI_METADATA_KEY] as Record<string, unknown> | null | undefined;
  if (meta === null || typeof meta !== 'object' || meta.command !== 'posterior')
    throw bad(CLI_METADATA_KEY, "must be the block 'sdekit posterior' writes (the averaged model is in it)");
  const model = meta.model as Record<string, unknown> | null | undefined;
  if (model === null || typeof model !== 'object' || model.format !== AVERAGED_MODEL_FORMAT)
    throw bad(`${CLI_METADATA_KEY}.model`, `must be an averaged model ('${AVERAGED_MODEL_FORMAT}')`);
  numberArray(`${CLI_METADATA_KEY}.lastPoint`, meta.lastPoint);
}

/** A posterior file loaded: the posterior over its averaged model, and the CLI block. */
export interface LoadedPosterior {
  readonly posterior: AveragedPosterior;
  readonly model: AveragedModel;
  readonly meta: PosteriorCliMetadata;
}

/**
 * Loads a posterior file written by `sdekit posterior` (`checkPosteriorJson` first): the embedded
 * averaged model (its coefficients module relative to the posterior file, or `coefficients`) and the
 * AveragedPosterior over it.
 */
export async function loadPosteriorFile(
  io: CliIo,
  shown: string,
  json: Record<string, unknown>,
  coefficients: string | undefined,
): Promise<LoadedPosterior> {
  checkPosteriorJson(json);
  const meta = json[CLI_METADATA_KEY] as unknown as PosteriorCliMetadata;
  const baseDir = dirname(resolvePath(io, shown));
  const { model } = await loadAveragedModel(io, shown, meta.model, baseDir, coefficients);
  if ((json.fitted as number[]).length !== model.numParams) {
    model.dispose();
    throw bad(
      'fitted',
      `has ${(json.fitted as number[]).length} entries, the embedded model ${model.numParams} flow parameters`,
    );
  }
  const posterior = AveragedPosterior.fromJSON(
    json as unknown as Parameters<typeof AveragedPosterior.fromJSON>[0],
    model,
  );
  return { posterior, model, meta };
}
