/** How a command starts and ends: its subcommands, its flags and `--help`, and the exit code of a failure. */
import { type ParsedArgs, parseArgs, UsageError } from './args.ts';

export type Subcommand = (args: string[]) => Promise<number>;

/**
 * The `run` of a command made of subcommands (`cityloop dept pull …`): the first argument names one. No name or an
 * unknown one prints the usage (exit 2); a UsageError it throws prints its message and the usage (exit 2).
 */
export function subcommands(table: Record<string, Subcommand>, usage: string): Subcommand {
  return async (args) => {
    const [sub, ...rest] = args;
    const fn = sub && Object.hasOwn(table, sub) ? table[sub] : undefined;
    if (!fn) {
      process.stderr.write(`${usage}\n`);
      return 2;
    }
    try {
      return await fn(rest);
    } catch (e) {
      if (e instanceof UsageError) return usageError(e, usage);
      throw e;
    }
  };
}

function usageError(e: UsageError, usage: string): number {
  process.stderr.write(`${e.message}\n\n${usage}\n`);
  return 2;
}

/**
 * The flags of a command that takes no positional argument, `--help` among them: undefined when `--help` asked for
 * the usage (printed; exit 0). Throws a UsageError for an unknown flag or any positional argument.
 */
export function flagsOnly(
  args: string[],
  known: { values?: string[]; booleans?: string[] },
  usage: string,
): ParsedArgs | undefined {
  const p = parseArgs(args, { values: known.values ?? [], booleans: [...(known.booleans ?? []), 'help'] });
  if (p.flags.help) {
    process.stdout.write(`${usage}\n`);
    return undefined;
  }
  if (p.positionals.length > 0) throw new UsageError(`unexpected argument: ${p.positionals[0]}`);
  return p;
}

/**
 * The exit code of a command that failed, its reason on stderr: a UsageError with the usage (2), a RangeError (a
 * value out of range, e.g. a period too long) alone (2), anything else as `<failure>: <message>` (1).
 */
export function failure(e: unknown, usage: string, what: string): number {
  if (e instanceof UsageError) return usageError(e, usage);
  if (e instanceof RangeError) {
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
  process.stderr.write(`${what}: ${(e as Error).message}\n`);
  return 1;
}
