import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureFields, log, logSink, setLogSink } from '#functions/lib/log.ts';
import { clearSourceMaps, mapStack, readableStack } from '#functions/lib/stack-trace.ts';
import { LAMBDA_BUNDLE } from '#infra/bundling.ts';

// A source whose throwing line is known, bundled the way infra/bundling.ts bundles a Lambda (minified, ESM, maps).
const SOURCE = [
  'export function outer(n: number): number {',
  '  return inner(n) + 1;',
  '}',
  'function inner(n: number): number {',
  "  if (n > 0) throw new Error('boom ' + n);",
  '  return n;',
  '}',
  '',
].join('\n');

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cityloop-stack-'));
  writeFileSync(join(dir, 'thrower.ts'), SOURCE);
  await build({
    entryPoints: [join(dir, 'thrower.ts')],
    outdir: join(dir, 'out', 'nested'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: LAMBDA_BUNDLE.format,
    platform: LAMBDA_BUNDLE.platform,
    target: LAMBDA_BUNDLE.target,
    minify: LAMBDA_BUNDLE.minify,
    sourcemap: LAMBDA_BUNDLE.sourcemap,
    sourcesContent: LAMBDA_BUNDLE.sourcesContent,
    logLevel: 'silent',
  });
  bundle = join(dir, 'out', 'nested', 'thrower.mjs');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The error the bundle throws, with V8's own stack text as on Lambda: thrown in a plain Node process (vitest's module
 * runner would rewrite the bundle's lines and map stacks itself), rebuilt here from the stack it printed.
 */
function thrown(): Error {
  const script = `import(${JSON.stringify(pathToFileURL(bundle).href)}).then((m) => { try { m.outer(3); } catch (e) { process.stdout.write(e.stack); } });`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: {} });
  if (!out.stdout.startsWith('Error: boom 3')) throw new Error(`the bundle did not throw: ${out.stderr}`);
  const e = new Error('boom 3');
  e.stack = out.stdout;
  return e;
}

describe('readableStack', () => {
  it('should map the frames of a minified bundle to the TypeScript source lines', () => {
    const e = thrown();
    expect(e.stack).toContain('thrower.mjs:1:');
    const mapped = readableStack(e)!;
    const frames = mapped.split('\n').filter((l) => l.includes('thrower.ts'));
    // inner throws on line 5, outer calls it on line 2
    expect(frames[0]).toMatch(/thrower\.ts:5:\d+\)?$/);
    expect(frames[1]).toMatch(/thrower\.ts:2:\d+\)?$/);
    expect(mapped.split('\n')[0]).toBe('Error: boom 3');
    expect(mapped).not.toContain('thrower.mjs:1:');
  });

  it('should give sources without the ../ of the temp folder the map was written in', () => {
    const mapped = readableStack(thrown())!;
    const line = mapped.split('\n').find((l) => l.includes('thrower.ts'))!;
    expect(line).not.toContain('../');
  });

  it('should leave frames of files without a map, Node internals and non-path frames as they are', () => {
    const stack = [
      'Error: x',
      '    at Object.<anonymous> (/nowhere/plain.js:3:9)',
      '    at node:internal/main/run_main_module:28:49',
      '    at async Promise.all (index 0)',
      '    at /nowhere/bare.mjs:1:1',
    ].join('\n');
    expect(mapStack(stack)).toBe(stack);
  });

  it('should map a bare frame (no function name) without adding parentheses', () => {
    const e = thrown();
    const frame = e.stack!.split('\n').find((l) => l.includes('thrower.mjs'))!;
    const location = /\((.*)\)/.exec(frame)?.[1] ?? frame.replace(/^\s*at /, '');
    const mapped = mapStack(`Error: y\n    at ${location}`);
    expect(mapped).toMatch(/^Error: y\n {4}at \S*thrower\.ts:5:\d+$/);
  });

  it('should leave frames unmapped when the map is unreadable, and never throw', () => {
    const e = thrown();
    writeFileSync(`${bundle}.map`, '{ not json');
    clearSourceMaps();
    try {
      expect(readableStack(e)).toBe(e.stack);
    } finally {
      clearSourceMaps();
    }
  });

  it('should give undefined for values that are not errors', () => {
    expect(readableStack('boom')).toBeUndefined();
    expect(readableStack({ stack: 'at x' })).toBeUndefined();
    const e = new Error('no stack');
    e.stack = undefined;
    expect(readableStack(e)).toBeUndefined();
  });
});

describe('failureFields', () => {
  it('should carry the message and the stack of an Error, masked in the log line', () => {
    const lines: string[] = [];
    const sink = logSink;
    setLogSink((l) => lines.push(l));
    try {
      log.error('triage failed', failureFields(new Error('号码 13800138000 无法处理')));
    } finally {
      setLogSink(sink);
    }
    const entry = JSON.parse(lines[0]!) as { error: string; stack: string };
    expect(entry.error).not.toContain('13800138000');
    expect(entry.stack).toMatch(/^Error: 号码 .* 无法处理\n {4}at /);
    expect(entry.stack).not.toContain('13800138000');
    expect(entry.stack).toContain('stack-trace.test.ts');
  });

  it('should give only a message for values that are not errors', () => {
    expect(failureFields('plain')).toEqual({ error: 'plain' });
    expect(failureFields({ message: 'shaped' })).toEqual({ error: 'shaped' });
    expect(failureFields(null)).toEqual({ error: 'null' });
  });
});
