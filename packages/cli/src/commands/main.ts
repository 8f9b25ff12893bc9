/**
 * The `sdekit` command line: `main(argv, io)` dispatches to fit-langevin, simulate, fit-averaged,
 * posterior and compare, turns every failure into one line on stderr and returns the exit code (0 success,
 * 1 failure, 2 usage error). It never calls process.exit, so tests run it in-process.
 */
import { isSdekitError } from '@sdekit/sde';
import { compareCommand } from './compare.js';
import { fitAveragedCommand } from './fit-averaged.js';
import { fitLangevinCommand } from './fit-langevin.js';
import { posteriorCommand } from './posterior.js';
import { simulateCommand } from './simulate.js';
import { type CliIo, type CommandSpec, EXIT, helpText, parseCommandArgs } from './spec.js';

import { VERSION } from './version.js';

/** Version printed by `sdekit --version` (kept equal to package.json's, tested). */
export { VERSION };

const COMMANDS: readonly CommandSpec[] = [
  fitLangevinCommand,
  simulateCommand,
  fitAveragedCommand,
  posteriorCommand,
  compareCommand,
];

function overview(): string {
  return [
    'Usage: sdekit <command> [arguments] [options]',
    '',
    'Reduced stochastic models from a CSV or .npy time series (rows = time).',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.brief}`),
    '',
    "Run 'sdekit <command> --help' for a command's options. Environment: SDEKIT_TF_BACKEND=node|wasm|cpu",
    'picks the TensorFlow.js backend when --backend is auto; SDEKIT_DEBUG=1 prints stack traces.',
    '',
  ].join('\n');
}

/** One line, whatever the error: the message of a typed error, or the first line of anything else. */
function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Runs the `sdekit` command line. `argv` excludes the node and script paths
 * (`process.argv.slice(2)`); output goes to `io`. Resolves to the exit code.
 *
 * @example
 * import { main } from '@sdekit/cli';
 * const code = await main(['compare', 'data.csv', 'sim.npy'], {
 *   stdout: (s) => process.stdout.write(s),
 *   stderr: (s) => process.stderr.write(s),
 * });
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(overview());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(
      `sdekit: unknown command '${name}'; commands: ${COMMANDS.map((c) => c.name).join(', ')} (see 'sdekit --help')\n`,
    );
    return EXIT.usage;
  }
  try {
    const args = parseCommandArgs(command, [...rest]);
    if (args.help) {
      io.stdout(helpText(command));
      return EXIT.ok;
    }
    await command.run(args, io);
    return EXIT.ok;
  } catch (err) {
    // isSdekitError, not instanceof: an error of another installed copy of @sdekit/sde (a duplicated
    // dependency) is recognised too.
    io.stderr(`sdekit ${command.name}: ${isSdekitError(err) ? '' : 'error: '}${oneLine(err)}\n`);
    if (process.env.SDEKIT_DEBUG === '1' && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return isSdekitError(err, 'UsageError') ? EXIT.usage : EXIT.failure;
  }
}

export { FileError } from './files.js';
export type { CliMetadata, CoefficientsContext } from './model-file.js';
export { type CliIo, EXIT, UsageError } from './spec.js';
