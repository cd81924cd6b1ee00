/**
 * Builds Lambda bundles exactly the way the CDK stack does (`infra/bundling-build.ts` `bundleLambda`, which
 * `infra/function.ts` runs as CDK's local bundler), into a temp folder, never into the repository. Used by `bench/coldstart.bench.ts`, and by hand:
 *
 *   npx tsx scripts/bundle.ts [--external-sdk] [--top N] [function-id ...]
 *
 * prints each bundle's size and the packages/files that make it big (from esbuild's metafile).
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Metafile } from 'esbuild';
import type { FunctionSpec } from '#core/topology.ts';
import { bundlePortsOf } from '../infra/bundling.ts';
import { bundleLambda, staticClosure } from '../infra/bundling-build.ts';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BuiltBundle {
  entry: string;
  file: string;
  /** The entry and the chunks it imports statically: what the import loads before any lazy chunk. */
  bytes: number;
  /** The whole asset (entry and every chunk), without source maps. */
  totalBytes: number;
  /** gzip of the entry and its static chunks. */
  gzipBytes: number;
  metafile: Metafile;
}

/** A fresh temp folder for bundles (under the OS temp dir). */
export function bundleDir(prefix = 'cityloop-bundles-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Builds one function into `<outDir>/<name>/index.mjs` (+ `.map`) with `bundleLambda`, i.e. exactly as the stack
 * deploys it (aliases, plugins, and the AWS clients of the function's spec).
 */
export async function bundleFunction(
  spec: FunctionSpec,
  outDir: string,
  opts: { externalSdk?: boolean } = {},
): Promise<BuiltBundle> {
  const dir = join(outDir, spec.id);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'index.mjs');
  const built = await bundleLambda(spec.entry, file, {
    projectRoot: PROJECT_ROOT,
    ports: bundlePortsOf(spec),
    ...(opts.externalSdk ? { externalSdk: true } : {}),
  });
  return {
    entry: spec.entry,
    file,
    bytes: built.bytes,
    totalBytes: built.totalBytes,
    gzipBytes: staticClosure(built.metafile, file, PROJECT_ROOT).reduce(
      (n, f) => n + gzipSync(readFileSync(f)).length,
      0,
    ),
    metafile: built.metafile,
  };
}

/** `node_modules/@aws-sdk/client-s3/dist-es/x.js` → `@aws-sdk/client-s3`; our files → their top folder (`core/dedupe`). */
export function ownerOf(input: string): string {
  const nm = input.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = input.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? input);
  }
  const parts = input.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : (parts[0] ?? input);
}

export interface Contribution {
  owner: string;
  /** Bytes this owner's inputs take in the output (after tree-shaking and minification). */
  bytes: number;
}

/** Bytes in the output per package (or project folder), largest first. */
export function contributions(metafile: Metafile, groupBy: (input: string) => string = ownerOf): Contribution[] {
  const by = new Map<string, number>();
  for (const out of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      const k = groupBy(input);
      by.set(k, (by.get(k) ?? 0) + bytesInOutput);
    }
  }
  return [...by.entries()].map(([owner, bytes]) => ({ owner, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** Bytes from the AWS SDK (`@aws-sdk/*`, `@smithy/*`, `@aws-crypto/*`, `@aws/*`) in the output. */
export function sdkBytes(metafile: Metafile): number {
  return contributions(metafile)
    .filter((c) => /^@(aws-sdk|smithy|aws-crypto|aws)\//.test(c.owner))
    .reduce((s, c) => s + c.bytes, 0);
}

const kB = (n: number) => `${(n / 1024).toFixed(0)} kB`;

async function main(args: string[]): Promise<void> {
  const externalSdk = args.includes('--external-sdk');
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 12;
  const wanted = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1));
  const { buildTopology } = await import('#core/topology.ts');
  const { defaultDepartments } = await import('#core/taxonomy/defaults.ts');
  const fns = buildTopology(defaultDepartments).functions.filter((f) => wanted.length === 0 || wanted.includes(f.id));
  const out = bundleDir();
  for (const f of fns) {
    const b = await bundleFunction(f, out, { externalSdk });
    process.stdout.write(
      `\n${f.id} (${f.entry}): ${kB(b.bytes)} at import (${kB(b.gzipBytes)} gzip), ${kB(b.totalBytes)} with its lazy chunks → ${b.file}\n`,
    );
    const loaded = new Set(staticClosure(b.metafile, b.file, PROJECT_ROOT).map((x) => relative(PROJECT_ROOT, x)));
    const atImport = Object.fromEntries(Object.entries(b.metafile.outputs).filter(([o]) => loaded.has(o)));
    process.stdout.write('  at import:\n');
    for (const c of contributions({ ...b.metafile, outputs: atImport }).slice(0, top)) {
      process.stdout.write(`  ${kB(c.bytes).padStart(7)}  ${c.owner}\n`);
    }
    const lazy = Object.entries(b.metafile.outputs).filter(
      ([o, v]) => !loaded.has(o) && !o.endsWith('.map') && v.bytes,
    );
    if (lazy.length) process.stdout.write('  lazy chunks:\n');
    for (const [o, v] of lazy.sort((x, y) => y[1].bytes - x[1].bytes).slice(0, top)) {
      process.stdout.write(
        `  ${kB(v.bytes).padStart(7)}  ${o.split('/').pop()}${v.entryPoint ? ` (${v.entryPoint})` : ''}\n`,
      );
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
