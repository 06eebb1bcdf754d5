/**
 * The command line the A/B benches share (bench/batch-ab.ts, bench/compute-ab.ts): two
 * checkouts, before and after the change, then each bench's own options.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';

/** The parsed command line of an A/B bench. */
export interface AbCommand<O> {
  /** Absolute paths of the checkouts: before the change, then after it. */
  trees: [before: string, after: string];
  /** The bench's options, as commander parsed them (strings as typed, defaults filled in). */
  opts: O;
}

/**
 * Parses `<before> <after> [options]`.
 * @param options adds the bench's options (with their defaults) to the command and returns it.
 * @param argv the process arguments (default `process.argv`).
 * @returns both checkouts resolved against the working directory, and the options.
 * @throws exits the process with commander's message when a checkout is missing or an option
 *   is unknown.
 */
export function parseAbCommand<O extends object>(
  options: (command: Command) => Command,
  argv: readonly string[] = process.argv,
): AbCommand<O> {
  const program = options(
    new Command()
      .argument('<before>', 'checkout before the change')
      .argument('<after>', 'checkout after the change'),
  ).parse(argv);
  return {
    trees: [resolve(program.args[0]!), resolve(program.args[1]!)],
    opts: program.opts<O>(),
  };
}
