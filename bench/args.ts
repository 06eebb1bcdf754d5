/**
 * The command lines of the bench scripts, parsed with commander: one command per script (its
 * positional arguments and options with their defaults, `--help`), the options several scripts
 * share, and the A/B benches' two checkouts. `npm run bench` has its own options (bench/options.ts).
 */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';

/** A bench's parsed command line. */
export interface BenchArgs<A extends unknown[], O> {
  /**
   * The positional arguments in order, as typed; an optional one not given is its default (or
   * undefined), a variadic one an array.
   */
  args: A;
  /** The options, as commander parsed them (strings as typed, defaults filled in, flags true when given). */
  opts: O;
}

/**
 * Parses the command line of the bench script `script`.
 * @param script the script as run, e.g. `bench/knn-ef-existing.ts` (named in `--help` and errors).
 * @param define adds the script's arguments and options (with their defaults) to the command and returns it.
 * @param argv the process arguments (default `process.argv`).
 * @throws exits the process with commander's message when an argument is missing or an option
 *   unknown or invalid (`--help`: prints the usage and exits 0).
 */
export function parseBenchArgs<A extends unknown[] = string[], O extends object = Record<string, never>>(
  script: string,
  define: (command: Command) => Command,
  argv: readonly string[] = process.argv,
): BenchArgs<A, O> {
  const command = define(new Command(`tsx ${script}`)).parse([...argv]);
  return { args: command.processedArgs as A, opts: command.opts<O>() };
}

/** `--tenant <id>`: the tenant whose stored history is read (default `default`). */
export function tenantOption(): Option {
  return new Option('--tenant <id>', 'tenant of the stored history').default('default');
}

/** The parsed command line of an A/B bench. */
export interface AbCommand<O> {
  /** Absolute paths of the checkouts: before the change, then after it. */
  trees: [before: string, after: string];
  /** The bench's options, as commander parsed them (strings as typed, defaults filled in). */
  opts: O;
}

/**
 * Parses `<before> <after> [options]`, the command line the A/B benches share (bench/batch-ab.ts,
 * bench/compute-ab.ts, bench/review-ab.ts): two checkouts, before and after the change, then
 * each bench's own options.
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

/**
 * Adds `<before> <after> <url>` and `--invoices`, `--turn`, `--tenant`: two checkouts taking
 * turns on one filled database (bench/search-ab.ts, bench/line-block-ab.ts).
 * @param defaults the default timed invoices and invoices per turn.
 */
export function turnsOnDatabase(command: Command, defaults: { invoices: string; turn: string }): Command {
  return command
    .argument('<before>', 'checkout before the change')
    .argument('<after>', 'checkout after the change (its bench/history.ts generates the invoices)')
    .argument('<url>', 'PostgreSQL database holding the history')
    .option('--invoices <n>', 'timed invoices', defaults.invoices)
    .option('--turn <n>', 'invoices per turn (the trees alternate every turn)', defaults.turn)
    .addOption(tenantOption());
}
