/** How CLI commands start and end (cli/lib/command.ts), alone and through the commands that use it. */
import { describe, expect, it } from 'vitest';
import { run as corrections } from '../../../cli/commands/corrections.ts';
import { run as dept } from '../../../cli/commands/dept.ts';
import { run as dlq } from '../../../cli/commands/dlq.ts';
import { run as report } from '../../../cli/commands/report.ts';
import { UsageError } from '../../../cli/lib/args.ts';
import { failure, flagsOnly, subcommands } from '../../../cli/lib/command.ts';
import { captureOutput } from './capture.ts';

const { stdout, stderr } = captureOutput();

describe('Function: subcommands', () => {
  const USAGE = 'usage: demo a|b';

  it('should run the subcommand the first argument names, with the rest of the arguments', async () => {
    // Prepare
    const seen: string[][] = [];
    const run = subcommands(
      {
        a: async (args) => {
          seen.push(args);
          return 0;
        },
      },
      USAGE,
    );

    // Act
    const code = await run(['a', 'x', '--y']);

    // Assess
    expect(code).toBe(0);
    expect(seen).toEqual([['x', '--y']]);
    expect(stderr.join('')).toBe('');
  });

  it('should print the usage and exit 2 without a subcommand, with an unknown one or an inherited name', async () => {
    // Prepare
    const run = subcommands({ a: async () => 0 }, USAGE);

    // Act
    const codes = [await run([]), await run(['nope']), await run(['toString']), await run(['constructor'])];

    // Assess
    expect(codes).toEqual([2, 2, 2, 2]);
    expect(stderr).toEqual([`${USAGE}\n`, `${USAGE}\n`, `${USAGE}\n`, `${USAGE}\n`]);
  });

  it('should print a usage error with the usage (exit 2), and let any other error through', async () => {
    // Prepare
    const run = subcommands(
      {
        bad: async () => {
          throw new UsageError('--x is required');
        },
        broken: async () => {
          throw new Error('disk full');
        },
      },
      USAGE,
    );

    // Act
    const code = await run(['bad']);

    // Assess
    expect(code).toBe(2);
    expect(stderr.join('')).toBe(`--x is required\n\n${USAGE}\n`);
    await expect(run(['broken'])).rejects.toThrow('disk full');
  });
});

describe('Function: flagsOnly', () => {
  it('should give the flags, --help known without being listed', () => {
    // Act
    const p = flagsOnly(['--from', '2026-01-01', '--aws'], { values: ['from'], booleans: ['aws'] }, 'u');

    // Assess
    expect(p).toEqual({ flags: { from: '2026-01-01', aws: true }, positionals: [] });
    expect(stdout.join('')).toBe('');
  });

  it('should print the usage on stdout and give undefined for --help', () => {
    // Act
    const p = flagsOnly(['--help'], { values: ['from'] }, 'usage: x');

    // Assess
    expect(p).toBeUndefined();
    expect(stdout.join('')).toBe('usage: x\n');
  });

  it('should refuse a positional argument and an unknown flag', () => {
    expect(() => flagsOnly(['extra'], {}, 'u')).toThrow(new UsageError('unexpected argument: extra'));
    expect(() => flagsOnly(['--nope'], {}, 'u')).toThrow(new UsageError('unknown option --nope'));
  });
});

describe('Function: failure', () => {
  it('should give 2 for a usage error (with the usage) and a range error (alone), 1 for anything else', () => {
    // Act
    const codes = [
      failure(new UsageError('--to is before --from'), 'USAGE', 'x failed'),
      failure(new RangeError('period too long'), 'USAGE', 'x failed'),
      failure(new Error('no table'), 'USAGE', '报表失败 report failed'),
    ];

    // Assess
    expect(codes).toEqual([2, 2, 1]);
    expect(stderr).toEqual([
      '--to is before --from\n\nUSAGE\n',
      'period too long\n',
      '报表失败 report failed: no table\n',
    ]);
  });
});

describe('Commands: dept, dlq, corrections, report (usage paths, no stack needed)', () => {
  it('should print the usage of dept and dlq without a subcommand (exit 2)', async () => {
    // Act
    const codes = [await dept([]), await dlq(['nope'])];

    // Assess
    expect(codes).toEqual([2, 2]);
    expect(stderr[0]).toContain('cityloop dept');
    expect(stderr[1]).toContain('cityloop dlq redrive');
  });

  it('should print a subcommand’s usage error with the usage (exit 2)', async () => {
    // Act
    const code = await dlq(['list', '--bogus']);

    // Assess
    expect(code).toBe(2);
    expect(stderr.join('')).toMatch(/^unknown option --bogus\n\n用法 usage:\n {2}cityloop dlq list/);
  });

  it('should answer --help of corrections and report on stdout (exit 0)', async () => {
    // Act
    const codes = [await corrections(['--help']), await report(['--help'])];

    // Assess
    expect(codes).toEqual([0, 0]);
    expect(stdout[0]).toContain('cityloop corrections --from YYYY-MM-DD');
    expect(stdout[1]).toContain('cityloop report --from YYYY-MM-DD');
    expect(stderr.join('')).toBe('');
  });

  it('should refuse a positional argument or a bad period with the usage (exit 2)', async () => {
    // Act
    const a = await corrections(['extra']);
    const b = await report(['--from', '2026-02-01', '--to', '2026-01-01']);

    // Assess
    expect([a, b]).toEqual([2, 2]);
    expect(stderr[0]).toMatch(/^unexpected argument: extra\n\n用法 usage:\n {2}cityloop corrections/);
    expect(stderr[1]).toMatch(/^--to is before --from\n\n用法 usage:\n {2}cityloop report/);
  });
});

describe('Function: main (--help)', () => {
  it('should print every command’s own usage and exit 0 on --help, running nothing', async () => {
    // Prepare
    const { main } = await import('../../../cli/main.ts');
    const { readdirSync } = await import('node:fs');
    const names = readdirSync(new URL('../../../cli/commands/', import.meta.url))
      .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
      .map((f) => f.slice(0, -3));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      stdout.length = 0;
      // Act
      const code = await main([name, '--help']);
      // Assess: its usage line names it; nothing went to stderr (no "unknown option", no "needs a value")
      expect(code, name).toBe(0);
      expect(stdout.join(''), name).toMatch(new RegExp(`usage:\\s+cityloop ${name}`));
      expect(stderr.join(''), name).toBe('');
    }
  });
});
