/**
 * Builds Lambda bundles exactly the way the CDK stack does (`infra/function.ts` → `NodejsFunction` → local esbuild:
 * ESM, node24, minified, source map without sources, the `require` banner, `module,main` fields, UTF-8 charset, AWS
 * SDK bundled), into a temp folder, never into the repository. Used by `bench/coldstart.bench.ts`, and by hand:
 *
 *   npx tsx scripts/bundle.ts [--external-sdk] [--env-credentials] [--top N] [function-id ...]
 *
 * prints each bundle's size and the packages/files that make it big (from esbuild's metafile).
 */
import { mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The banner of `infra/function.ts` (a real `require` for CommonJS dependencies in an ESM bundle). */
export const ESM_REQUIRE_BANNER =
  "import{createRequire as __cityloopCreateRequire}from'node:module';const require=__cityloopCreateRequire(import.meta.url);";

export interface BundleOptions {
  /** Leave `@aws-sdk/*` and `@smithy/*` to the Lambda runtime (CDK's default without `bundleAwsSDK`). */
  externalSdk?: boolean;
  /**
   * What-if builds: project modules (paths from the root, e.g. `adapters/s3/blobs.ts`) replaced by a module whose
   * exports throw when used, to measure what a module costs a function that never calls it.
   */
  stub?: string[];
  /** esbuild `alias` (package → file from the root), e.g. the env-only credential provider. */
  alias?: Record<string, string>;
}

/** The SDK's default credential chain swapped for env credentials (what Lambda provides): see the module. */
export const ENV_CREDENTIALS_ALIAS: Record<string, string> = {
  '@aws-sdk/credential-provider-node': './adapters/aws/env-credentials.ts',
};

/** An esbuild plugin serving `stubs` (absolute paths) as modules that keep the export names but throw when used. */
function stubPlugin(stubs: readonly string[]): Plugin {
  const wanted = new Set(stubs);
  return {
    name: 'cityloop-stub',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!wanted.has(args.path)) return undefined;
        const src = readFileSync(args.path, 'utf8');
        const names = [...src.matchAll(/^export\s+(?:async\s+)?(?:function|class|const|let)\s+(\w+)/gm)].map(
          (m) => m[1],
        );
        const body = names
          .map(
            (n) =>
              `export const ${n} = new Proxy(function () {}, { get() { throw new Error('${n}: stubbed'); }, apply() { throw new Error('${n}: stubbed'); }, construct() { throw new Error('${n}: stubbed'); } });`,
          )
          .join('\n');
        return { contents: body, loader: 'js' };
      });
    },
  };
}

/**
 * The esbuild options CDK derives from `infra/function.ts`'s bundling props (see aws-cdk-lib
 * `aws-lambda-nodejs/lib/bundling.js` `buildEsbuildArgs`): `--bundle --target=node24 --platform=node --format=esm
 * --minify --sourcemap --sources-content=false --banner:js=… --main-fields=module,main --charset=utf8`.
 */
export function cdkEsbuildOptions(entry: string, outfile: string, opts: BundleOptions = {}): BuildOptions {
  return {
    entryPoints: [resolve(PROJECT_ROOT, entry)],
    outfile,
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    target: 'node24',
    platform: 'node',
    format: 'esm',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    banner: { js: ESM_REQUIRE_BANNER },
    mainFields: ['module', 'main'],
    charset: 'utf8',
    external: opts.externalSdk ? ['@aws-sdk/*', '@smithy/*'] : [],
    logLevel: 'warning',
    metafile: true,
    ...(opts.stub?.length ? { plugins: [stubPlugin(opts.stub.map((p) => resolve(PROJECT_ROOT, p)))] } : {}),
    ...(opts.alias
      ? { alias: Object.fromEntries(Object.entries(opts.alias).map(([k, v]) => [k, resolve(PROJECT_ROOT, v)])) }
      : {}),
  };
}

export interface BuiltBundle {
  entry: string;
  file: string;
  bytes: number;
  gzipBytes: number;
  metafile: Metafile;
}

/** A fresh temp folder for bundles (under the OS temp dir). */
export function bundleDir(prefix = 'cityloop-bundles-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Builds one function entry into `<outDir>/<name>/index.mjs` (+ `.map`), like CDK's asset folder. */
export async function bundleFunction(
  entry: string,
  outDir: string,
  name: string,
  opts: BundleOptions = {},
): Promise<BuiltBundle> {
  const dir = join(outDir, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'index.mjs');
  const result = await build(cdkEsbuildOptions(entry, file, opts));
  const bytes = statSync(file).size;
  return {
    entry,
    file,
    bytes,
    gzipBytes: gzipSync(readFileSync(file)).length,
    metafile: result.metafile as Metafile,
  };
}

/**
 * Several entries in one esbuild run (parsing shared; each output still a self-contained bundle, as CDK builds them
 * one by one): `<outDir>/<name>/index.mjs` per entry. Returns the bundles by entry.
 */
export async function bundleFunctions(
  entries: ReadonlyMap<string, string>,
  outDir: string,
  opts: BundleOptions = {},
): Promise<Map<string, BuiltBundle>> {
  const base = cdkEsbuildOptions('x', join(outDir, 'x.mjs'), opts);
  delete base.outfile;
  delete base.entryPoints;
  const result = await build({
    ...base,
    entryPoints: [...entries].map(([entry, name]) => ({ in: resolve(PROJECT_ROOT, entry), out: `${name}/index` })),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
  });
  const meta = result.metafile as Metafile;
  const out = new Map<string, BuiltBundle>();
  for (const [entry, name] of entries) {
    const file = join(outDir, name, 'index.mjs');
    const key = Object.keys(meta.outputs).find((k) => resolve(PROJECT_ROOT, k) === file);
    if (!key) throw new Error(`no output for ${entry}`);
    out.set(entry, {
      entry,
      file,
      bytes: statSync(file).size,
      gzipBytes: gzipSync(readFileSync(file)).length,
      metafile: { inputs: {}, outputs: { [key]: meta.outputs[key]! } },
    });
  }
  return out;
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
  const envCredentials = args.includes('--env-credentials');
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 12;
  const wanted = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1));
  const { buildTopology } = await import('#core/topology.ts');
  const { defaultDepartments } = await import('#core/taxonomy/defaults.ts');
  const fns = buildTopology(defaultDepartments).functions.filter((f) => wanted.length === 0 || wanted.includes(f.id));
  const out = bundleDir();
  for (const f of fns) {
    const b = await bundleFunction(f.entry, out, f.id, {
      externalSdk,
      ...(envCredentials ? { alias: ENV_CREDENTIALS_ALIAS } : {}),
    });
    process.stdout.write(`\n${f.id} (${f.entry}): ${kB(b.bytes)} minified, ${kB(b.gzipBytes)} gzip → ${b.file}\n`);
    for (const c of contributions(b.metafile).slice(0, top)) {
      process.stdout.write(`  ${kB(c.bytes).padStart(7)}  ${c.owner}\n`);
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
