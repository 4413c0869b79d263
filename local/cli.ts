/**
 * The shape every command-line tool (local/ and bench/) shares: flags parsed by
 * `node:util` parseArgs in strict mode, so an unknown flag, a missing value or a bad
 * number is an error (exit 2, one line naming it, then the usage) and `--help` prints
 * the usage (exit 0); then run, print, exit with the run's code. An unexpected error
 * prints one line (with `failurePrefix`) and exits 1.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type NumberRule, describeRule, fits } from '../shared/settings/env-values';

/** Bad usage: the message is printed with the usage (exit 2); an empty one means --help (exit 0). */
export class UsageError extends Error {}

export type FlagSpecs = NonNullable<ParseArgsConfig['options']>;

export interface ParsedFlags {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` against `options` (plus `--help`/`-h`); throws {@link UsageError} on
 * an unknown flag, a flag without its value, or positionals beyond `maxPositionals`.
 */
export function parseFlags(argv: string[], options: FlagSpecs, maxPositionals = 0): ParsedFlags {
  let parsed: ParsedFlags;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
    }) as ParsedFlags;
  } catch (err) {
    throw new UsageError(flagError(err as NodeJS.ErrnoException));
  }
  if (parsed.values['help']) throw new UsageError('');
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`Unexpected argument "${parsed.positionals[maxPositionals]}"`);
  }
  return parsed;
}

/** One line for what parseArgs refused (its own messages add advice about '--' that does not apply). */
function flagError(err: NodeJS.ErrnoException): string {
  const flag = /'(-{1,2}[^' <=]+)/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
    return /does not take an argument/.test(err.message)
      ? `${flag} does not take a value`
      : `${flag} needs a value`;
  }
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) return `Unknown option '${flag}'`;
  return (err.message.split('. ')[0] ?? 'bad arguments').replace(/\.$/, '');
}

/** A string flag's value (undefined when absent). */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A numeric flag: undefined when absent, else a number that satisfies `rule`, else a UsageError. */
export function numberFlag(flags: ParsedFlags, name: string, rule: NumberRule = {}): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  const n = text.trim() === '' ? Number.NaN : Number(text);
  if (!fits(n, rule)) throw new UsageError(`--${name} must be ${describeRule(rule)}, got "${text}"`);
  return n;
}

/**
 * For tools that parse at module load (the benchmarks): runs `parse`, and on a
 * {@link UsageError} prints it with the usage and exits (2, or 0 for --help).
 */
export function parseOrExit<O>(parse: () => O, usage: () => string): O {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) console.error(err.message);
    (err.message ? console.error : console.log)(usage());
    process.exit(err.message ? 2 : 0);
  }
}

export function runCli<O>(spec: {
  parse: (argv: string[]) => O;
  usage: () => string;
  run: (options: O) => Promise<number>;
  failurePrefix?: string;
}): void {
  const main = async (): Promise<number> => {
    const options = parseOrExit(() => spec.parse(process.argv.slice(2)), spec.usage);
    return spec.run(options);
  };
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`${spec.failurePrefix ?? ''}${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
