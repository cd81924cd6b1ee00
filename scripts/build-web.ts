/**
 * Builds the pages (web/src → web/dist) with Vite, then writes what the pages read at run time:
 * - `data/taxonomy.json`: the 事项清单 (codes, names, parents, departments, keywords) and the departments, from
 *   config/taxonomy.json and config/departments.json, so the citizen page can help with the category offline;
 * - `config.json`: how staff sign in (`apikey` locally; `bearer` on AWS: set CITYLOOP_PAGES_AUTH=bearer and
 *   optionally CITYLOOP_PAGES_SIGNIN_URL when building for a deployment, or replace the file there);
 * - `build.json`: the hash of every input, so `--if-stale` (used by `npm start` and the browser tests) skips a
 *   build that would change nothing.
 * The build goes to a scratch folder first and is swapped in whole: a running server never serves half a build.
 *
 *   npx tsx scripts/build-web.ts [--if-stale] [--quiet]     (npm run build:web; `npm start` runs it with --if-stale)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web');
const DIST = join(WEB, 'dist');
const STAMP = 'build.json';

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Files outside web/src that the pages import (core modules), followed through their relative imports. */
function importedOutside(files: string[]): string[] {
  const seen = new Set<string>();
  const queue = [...files];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (!/\.(ts|js)$/.test(file)) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = resolve(dirname(file), m[1] as string);
      if (!existsSync(target) || seen.has(target)) continue;
      seen.add(target);
      queue.push(target);
    }
  }
  return [...seen].filter((f) => !f.startsWith(join(WEB, 'src')));
}

function pagesConfig(): Record<string, unknown> {
  const mode = process.env.CITYLOOP_PAGES_AUTH === 'bearer' ? 'bearer' : 'apikey';
  const signInUrl = process.env.CITYLOOP_PAGES_SIGNIN_URL;
  return { auth: { mode, ...(mode === 'bearer' && signInUrl ? { signInUrl } : {}) } };
}

export function inputsHash(): string {
  const src = walk(join(WEB, 'src'));
  const files = [
    ...src,
    ...importedOutside(src),
    join(WEB, 'vite.config.ts'),
    join(ROOT, 'config/taxonomy.json'),
    join(ROOT, 'config/departments.json'),
    fileURLToPath(import.meta.url),
    join(ROOT, 'node_modules/preact/package.json'),
    join(ROOT, 'node_modules/chart.js/package.json'),
    join(ROOT, 'node_modules/vite/package.json'),
  ]
    .filter((f) => existsSync(f))
    .sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  hash.update(JSON.stringify(pagesConfig()));
  return hash.digest('hex');
}

export function isFresh(hash = inputsHash()): boolean {
  try {
    const stamp = JSON.parse(readFileSync(join(DIST, STAMP), 'utf8')) as { inputs?: string };
    return stamp.inputs === hash && existsSync(join(DIST, 'index.html'));
  } catch {
    return false;
  }
}

function taxonomyData(): unknown {
  const taxonomy = JSON.parse(readFileSync(join(ROOT, 'config/taxonomy.json'), 'utf8')) as {
    version: string;
    categories: { code: string; name: string; parent?: string; department?: string; keywords?: string[] }[];
  };
  const departments = JSON.parse(readFileSync(join(ROOT, 'config/departments.json'), 'utf8')) as {
    departments: { id: string; name: string; kind: string }[];
  };
  return {
    version: taxonomy.version,
    categories: taxonomy.categories.map((c) => ({
      code: c.code,
      name: c.name,
      ...(c.parent ? { parent: c.parent } : {}),
      ...(c.department ? { department: c.department } : {}),
      keywords: c.keywords ?? [],
    })),
    departments: departments.departments.map((d) => ({ id: d.id, name: d.name, kind: d.kind })),
  };
}

export interface BuiltAsset {
  file: string;
  bytes: number;
  gzip: number;
}

export async function buildWeb(opts: { ifStale?: boolean; quiet?: boolean } = {}): Promise<BuiltAsset[] | 'fresh'> {
  const hash = inputsHash();
  if (opts.ifStale && isFresh(hash)) return 'fresh';
  const { build } = await import('vite');
  const scratch = join(ROOT, 'node_modules/.cache', `cityloop-web-${process.pid}-${Date.now()}`);
  mkdirSync(dirname(scratch), { recursive: true });
  try {
    await build({
      configFile: join(WEB, 'vite.config.ts'),
      logLevel: opts.quiet ? 'error' : 'warn',
      build: { outDir: scratch, emptyOutDir: true },
    });
    mkdirSync(join(scratch, 'data'), { recursive: true });
    writeFileSync(join(scratch, 'data/taxonomy.json'), JSON.stringify(taxonomyData()));
    writeFileSync(join(scratch, 'config.json'), `${JSON.stringify(pagesConfig())}\n`);
    const assets: BuiltAsset[] = walk(scratch)
      .filter((f) => /\.(js|css|html|json)$/.test(f))
      .map((f) => {
        const bytes = readFileSync(f);
        return { file: relative(scratch, f), bytes: bytes.length, gzip: gzipSync(bytes).length };
      })
      .sort((a, b) => a.file.localeCompare(b.file));
    writeFileSync(
      join(scratch, STAMP),
      `${JSON.stringify({ inputs: hash, builtAt: new Date().toISOString(), assets }, null, 1)}\n`,
    );
    swapIn(scratch);
    return assets;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Replaces web/dist with the new build (two renames; another build finishing at the same time just wins). */
function swapIn(scratch: string): void {
  const old = join(ROOT, 'node_modules/.cache', `cityloop-web-old-${process.pid}-${Date.now()}`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (existsSync(DIST)) renameSync(DIST, old);
      renameSync(scratch, DIST);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw e;
    }
  }
  rmSync(old, { recursive: true, force: true });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const quiet = args.includes('--quiet');
  const started = performance.now();
  const out = await buildWeb({ ifStale: args.includes('--if-stale'), quiet });
  const ms = Math.round(performance.now() - started);
  if (out === 'fresh') {
    if (!quiet) process.stdout.write(`pages up to date (web/dist), checked in ${ms} ms\n`);
    return 0;
  }
  if (!quiet) {
    const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
    for (const a of out.filter((x) => /\.(js|css)$/.test(x.file))) {
      process.stdout.write(`  ${a.file.padEnd(44)} ${kb(a.bytes).padStart(9)}  gzip ${kb(a.gzip).padStart(8)}\n`);
    }
  }
  process.stdout.write(`pages built to web/dist in ${ms} ms\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`build failed: ${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}
