/**
 * One convention for every command-line entry point (the package.json scripts), on node:util
 * parseArgs. A command declares its usage text and options once (`defineCli`); then
 *
 * - `--help` / `-h` prints the usage to stdout and exits 0, before any work;
 * - an unknown option, a missing or bad value, a wrong argument (parseArgs' errors, or a
 *   `UsageError` the work throws before it starts) prints `<command>: <what is wrong>` and the
 *   usage's first line with `(see --help)` to stderr and exits 2, without a stack trace;
 * - any other error the work throws prints `<command>: <message>` to stderr and exits 1 (the
 *   stack only with DEBUG set);
 * - otherwise the exit code is what the work returns (nothing: 0). A work that ran but whose
 *   verdict is "failed" (a stage failed, a check found problems) returns 1 after saying why.
 *
 * `main()` sets process.exitCode and lets Node exit when the event loop is empty; a command whose
 * clients keep sockets open declares `forceExit` (and says why there).
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

export type CliOptions = ParseArgsOptionsConfig;

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A usage problem found after parsing (a wrong argument count, a value out of range): exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliStreams {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface CliSpec<O extends CliOptions> {
  /** The command as typed after `npm run` (`score:batch`); every error line starts with it. */
  name: string;
  /** The whole `--help` text. Its first line (the synopsis) follows a usage error. */
  usage: string;
  /** parseArgs options; `help` (`-h`) is added. */
  options?: O;
  /** Whether positional arguments are allowed (default: no; parseArgs rejects them). */
  positionals?: boolean;
  /**
   * Exit with process.exit once stdout and stderr are flushed, instead of setting
   * process.exitCode: only for a command whose clients keep the event loop alive.
   */
  forceExit?: boolean;
}

const HELP = { help: { type: 'boolean', short: 'h', default: false } } as const;
type Config<O extends CliOptions> = { args: string[]; options: O & typeof HELP; allowPositionals: true; strict: true };

/** The parsed option values, typed from the declared options. */
export type CliValues<O extends CliOptions> = ReturnType<typeof parseArgs<Config<O>>>['values'];

export interface CliArgs<O extends CliOptions> {
  values: CliValues<O>;
  positionals: string[];
}

/**
 * What a command does once its arguments parsed: its exit code (nothing: 0). `io` is what
 * `run` was given (tests pass their own streams and extras), with stdout and stderr filled in.
 */
export type CliWork<O extends CliOptions, X extends object> = (
  args: CliArgs<O>,
  io: CliStreams & X,
) => Promise<number | void> | number | void;

export interface Cli<X extends object> {
  readonly name: string;
  readonly usage: string;
  /** Parse `argv` and run: the exit code (0 ok, 1 failed, 2 usage error). Never throws. */
  run(argv: readonly string[], io?: Partial<CliStreams> & X): Promise<number>;
  /** Run with the process's arguments and streams, then exit as the spec says. */
  main(argv?: readonly string[]): Promise<void>;
}

const processStreams: CliStreams = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** parseArgs' messages, as one lower-case line without its advice about `--` (the hint follows). */
function describeParseError(err: Error): string {
  const unknown = /^Unknown option '([^']*)'/.exec(err.message);
  const stray = /^Unexpected argument '([^']*)'/.exec(err.message);
  const text = unknown
    ? `unknown option '${unknown[1]}'`
    : stray
      ? `unexpected argument '${stray[1]}' (this command takes options only)`
      : err.message.replace(/\s*\n\s*/g, ' ').trim();
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** `--help` or `-h` before a `--` terminator. */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** The usage error lines: `<command>: <problem>`, then the synopsis and where the rest is. */
export function formatUsageError(name: string, usage: string, problem: string): string {
  const synopsis = usage.split('\n', 1)[0].trim();
  return `${name}: ${problem}\n${synopsis ? `${synopsis}  ` : ''}(see --help)\n`;
}

/**
 * Declare a command. `X` is what its work needs besides the streams (a logger, a directory, an
 * environment); every field of X must be optional, since `main()` passes none.
 */
export function defineCli<const O extends CliOptions = Record<never, never>, X extends object = Record<never, never>>(
  spec: CliSpec<O>,
  work: CliWork<O, X>,
): Cli<X> {
  const run = async (argv: readonly string[], given?: Partial<CliStreams> & X): Promise<number> => {
    const io = {
      ...given,
      stdout: given?.stdout ?? processStreams.stdout,
      stderr: given?.stderr ?? processStreams.stderr,
    };
    const full = io as CliStreams & X;
    let args: CliArgs<O>;
    try {
      const parsed = parseArgs({
        args: [...argv],
        options: { ...spec.options, ...HELP },
        allowPositionals: spec.positionals ?? false,
        strict: true,
      } as Config<O>);
      args = { values: parsed.values, positionals: parsed.positionals };
    } catch (err) {
      if (asksForHelp(argv)) {
        io.stdout(spec.usage.trimEnd() + '\n');
        return EXIT_OK;
      }
      io.stderr(formatUsageError(spec.name, spec.usage, describeParseError(err as Error)));
      return EXIT_USAGE;
    }
    if ((args.values as { help?: boolean }).help) {
      io.stdout(spec.usage.trimEnd() + '\n');
      return EXIT_OK;
    }
    try {
      return (await work(args, full)) ?? EXIT_OK;
    } catch (err) {
      if (err instanceof UsageError) {
        io.stderr(formatUsageError(spec.name, spec.usage, err.message));
        return EXIT_USAGE;
      }
      const message = err instanceof Error ? err.message : String(err);
      io.stderr(`${spec.name}: ${message}\n`);
      if (process.env.DEBUG && err instanceof Error && err.stack) io.stderr(err.stack + '\n');
      return EXIT_FAILURE;
    }
  };
  return {
    name: spec.name,
    usage: spec.usage,
    run,
    async main(argv = process.argv.slice(2)) {
      // Every field of X is optional (see above), so no extras is a valid X.
      const code = await run(argv, {} as Partial<CliStreams> & X);
      if (!spec.forceExit) {
        process.exitCode = code;
        return;
      }
      // Both streams flushed first: process.exit does not wait for pending writes to pipes.
      process.stderr.write('', () => process.stdout.write('', () => process.exit(code)));
    },
  };
}

type NumberRule = { integer?: boolean; positive?: boolean; min?: number; max?: number };

/** A number option's value (undefined when not given); not a number, or out of range: a UsageError. */
export function numberOption(value: string, flag: string, rule?: NumberRule): number;
export function numberOption(value: string | undefined, flag: string, rule?: NumberRule): number | undefined;
export function numberOption(value: string | undefined, flag: string, rule: NumberRule = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  const ok =
    Number.isFinite(n) &&
    (!rule.integer || Number.isInteger(n)) &&
    (!rule.positive || n > 0) &&
    (rule.min === undefined || n >= rule.min) &&
    (rule.max === undefined || n <= rule.max);
  if (ok) return n;
  const kind = `${rule.positive ? 'a positive ' : 'a '}${rule.integer ? 'whole number' : 'number'}`;
  const bounds = [rule.min === undefined ? '' : `≥ ${rule.min}`, rule.max === undefined ? '' : `≤ ${rule.max}`];
  const range = bounds.filter(Boolean).join(' and ');
  throw new UsageError(`--${flag} must be ${kind}${range ? ' ' + range : ''}, got "${value}"`);
}

/** `a, b or c` */
function oneOf(choices: readonly string[]): string {
  return choices.length < 2 ? choices.join('') : `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`;
}

/** A value that must be one of `choices`: narrowed, or a UsageError naming them. */
export function choiceOption<const C extends string>(value: string, flag: string, choices: readonly C[]): C {
  if ((choices as readonly string[]).includes(value)) return value as C;
  throw new UsageError(`--${flag} must be ${oneOf(choices)}, got "${value}"`);
}
