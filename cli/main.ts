/**
 * `cityloop <command> [...args]`. Each command lives in `cli/commands/<command>.ts` and exports
 * `run(args: string[]): Promise<number>` (the exit code) and a one-line `summary`.
 * Discovery by file name keeps this dispatcher free of a central list that every feature must edit.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const commandsDir = join(dirname(fileURLToPath(import.meta.url)), 'commands');

export interface CliCommand {
  summary: string;
  /** The command's usage text (`cityloop <command> --help` prints it). */
  USAGE?: string;
  run(args: string[]): Promise<number>;
}

function listCommands(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function usage(): Promise<string> {
  const lines = ['用法 usage: cityloop <command> [options]', ''];
  for (const name of listCommands()) {
    const mod = (await import(join(commandsDir, `${name}.ts`))) as CliCommand;
    lines.push(`  ${name.padEnd(14)} ${mod.summary}`);
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${await usage()}\n`);
    return name ? 0 : 2;
  }
  if (!listCommands().includes(name)) {
    process.stderr.write(`unknown command: ${name}\n\n${await usage()}\n`);
    return 2;
  }
  const mod = (await import(join(commandsDir, `${name}.ts`))) as CliCommand;
  // `--help` anywhere (as `-h` only first: some commands take values that may start with a dash).
  if (rest.includes('--help') || rest[0] === '-h') {
    process.stdout.write(`${mod.USAGE ?? `用法 usage: cityloop ${name} [options]`}\n\n${mod.summary}\n`);
    return 0;
  }
  return mod.run(rest);
}
