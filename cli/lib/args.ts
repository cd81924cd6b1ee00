/** Tiny, strict flag parsing for the CLI: `--name value`, `--flag`, and positionals. Unknown flags are errors. */
export interface ParsedArgs {
  flags: Record<string, string | true>;
  positionals: string[];
}

export class UsageError extends Error {}

export function parseArgs(args: string[], known: { values?: string[]; booleans?: string[] }): ParsedArgs {
  const values = new Set(known.values ?? []);
  const booleans = new Set(known.booleans ?? []);
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (booleans.has(name)) flags[name] = true;
    else if (values.has(name)) {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = v;
    } else throw new UsageError(`unknown option --${name}`);
  }
  return { flags, positionals };
}

export function str(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function int(p: ParsedArgs, name: string, fallback: number): number {
  const v = str(p, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer`);
  return n;
}
