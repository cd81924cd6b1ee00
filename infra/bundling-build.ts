/**
 * The Lambda bundler: esbuild's API with the options of `infra/bundling.ts` and two load-time plugins, which the
 * esbuild CLI that `NodejsFunction` runs cannot take. `infra/function.ts` runs this module as a child process from
 * CDK's local bundling (CDK's `tryBundle` is synchronous; esbuild runs plugins only in its asynchronous API);
 * `bench/coldstart.bench.ts` and the tests call `bundleLambda` directly, so what is measured is what deploys.
 *
 *   node infra/bundling-build.ts '{"entry":"functions/triage.ts","outfile":"/tmp/x/index.mjs","ports":{…}}'
 *
 * (Node 24 runs the TypeScript as is: this module and `infra/bundling.ts` use erasable syntax only.)
 *
 * The plugins, both for AWS SDK files only, both leaving behaviour as published:
 * - schema keys: each client's `schemas/schemas_0.js` describes every operation of the service with object literals
 *   keyed by module constants (`{ [_h]: ["POST", "/v2/email/outbound-emails", 200] }` with `const _h = "http"`). A
 *   computed key may run code as far as esbuild knows, so it keeps every one of them: all 484 SES v2 shapes for the
 *   one SendEmail we call (~50 kB), all of S3's (~65 kB). The plugin writes each such key as the string literal its
 *   `const` holds, the same value, and esbuild then drops the shapes no kept operation reaches.
 * - package info: clients import their whole `package.json` for one field, `version` (the user agent); the plugin
 *   serves `{ name, version }`.
 * - node:http by require: the SDK's HTTP handler loads `node:http` with `await import("node:http")` on its first
 *   request to an `http:` endpoint (the local emulators; AWS endpoints are `https:`, imported statically). An ESM
 *   import of a built-in builds its ESM facade, which reads every export, and `node:http`'s lazy `WebSocket`,
 *   `CloseEvent` and `MessageEvent` getters then load all of undici (~20 ms of a first event here); `require` gives
 *   the same module object without the facade. The plugin writes the import as a resolved promise of the require.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { type BundlePorts, CHUNK_NAMES, type LambdaBuildOptions, lambdaEsbuildOptions } from './bundling.ts';

/** The schema modules of the SDK clients. */
export const SDK_SCHEMA_FILE =
  /[\\/]node_modules[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/** The `package.json` of an `@aws-sdk/*` package. */
export const SDK_PACKAGE_JSON = /[\\/]node_modules[\\/]@aws-sdk[\\/][^\\/]+[\\/]package\.json$/;

/**
 * Rewrites computed keys `[_x]:` whose name is a module-level `const _x = "…";` string into `["…"]:`. Names declared
 * twice, or not as such a string, are left alone.
 */
export function inlineSchemaKeys(source: string): { code: string; replaced: number } {
  const values = new Map<string, string>();
  const seen = new Set<string>();
  for (const m of source.matchAll(/^(?:const|let|var)\s+(_[A-Za-z0-9_$]*)\s*=\s*(.+?);?$/gm)) {
    const [, name, init] = m as unknown as [string, string, string];
    if (seen.has(name)) values.delete(name);
    else if (m[0].startsWith('const') && /^"[^"\\\n]*"$/.test(init)) values.set(name, init);
    seen.add(name);
  }
  let replaced = 0;
  const code = source.replace(/\[(_[A-Za-z0-9_$]*)\]:/g, (all, name: string) => {
    const value = values.get(name);
    if (value === undefined) return all;
    replaced++;
    return `[${value}]:`;
  });
  return { code, replaced };
}

export const sdkSchemaKeysPlugin: Plugin = {
  name: 'cityloop-sdk-schema-keys',
  setup(b) {
    b.onLoad({ filter: SDK_SCHEMA_FILE }, (args) => ({
      contents: inlineSchemaKeys(readFileSync(args.path, 'utf8')).code,
      loader: 'js',
    }));
  },
};

export const sdkPackageInfoPlugin: Plugin = {
  name: 'cityloop-sdk-package-info',
  setup(b) {
    b.onLoad({ filter: SDK_PACKAGE_JSON }, (args) => {
      const pkg = JSON.parse(readFileSync(args.path, 'utf8')) as { name?: string; version?: string };
      return { contents: JSON.stringify({ name: pkg.name, version: pkg.version }), loader: 'json' };
    });
  },
};

/** The SDK's Node HTTP handler (the one file that imports `node:http` lazily on every request path). */
export const SDK_HTTP_HANDLER_FILE = /[\\/]node_modules[\\/]@smithy[\\/]node-http-handler[\\/]dist-es[\\/][^\\/]+\.js$/;

/** `await import("node:http")` (or `'http'`) → `await Promise.resolve(require("node:http"))`: same module object. */
export function requireNodeHttp(source: string): { code: string; replaced: number } {
  let replaced = 0;
  const code = source.replace(/\bimport\(\s*(["'])(?:node:)?http\1\s*\)/g, () => {
    replaced++;
    return 'Promise.resolve(require("node:http"))';
  });
  return { code, replaced };
}

export const sdkNodeHttpPlugin: Plugin = {
  name: 'cityloop-sdk-node-http',
  setup(b) {
    b.onLoad({ filter: SDK_HTTP_HANDLER_FILE }, (args) => ({
      contents: requireNodeHttp(readFileSync(args.path, 'utf8')).code,
      loader: 'js',
      resolveDir: path.dirname(args.path),
    }));
  },
};

/** The plugins of every deployed Lambda bundle. */
export const LAMBDA_PLUGINS: readonly Plugin[] = [sdkSchemaKeysPlugin, sdkPackageInfoPlugin, sdkNodeHttpPlugin];

export interface BundleLambdaOptions extends LambdaBuildOptions {
  /** What-if builds: without the plugins (the SDK files as published). Default: true, as deployed. */
  plugins?: boolean;
}

export interface LambdaBundle {
  /** The entry (`outfile`), the handler's module. */
  file: string;
  /** Bytes the import loads: the entry and the chunks it imports statically (the lazy chunks not). */
  bytes: number;
  /** Every JavaScript file of the asset (entry and chunks; not the source maps). */
  files: string[];
  /** Their bytes: the whole asset without source maps. */
  totalBytes: number;
  metafile: Metafile;
}

/** The output files (absolute) the import of `entry` loads: it and its static imports, transitively. */
export function staticClosure(metafile: Metafile, entry: string, cwd: string): string[] {
  const key = (f: string) => path.relative(cwd, f).split(path.sep).join('/');
  const seen = new Set<string>();
  const visit = (out: string) => {
    if (seen.has(out) || !metafile.outputs[out]) return;
    seen.add(out);
    for (const i of metafile.outputs[out]!.imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(key(entry));
  return [...seen].map((o) => path.resolve(cwd, o));
}

/** Builds `entry` into `outfile` (+ `.map`) exactly as the stack deploys it. */
export async function bundleLambda(
  entry: string,
  outfile: string,
  opts: BundleLambdaOptions = {},
): Promise<LambdaBundle> {
  const options = lambdaEsbuildOptions(entry, outfile, opts);
  // Chunk names carry content hashes: a rebuild into the same folder must not leave stale chunks behind.
  rmSync(path.join(path.dirname(outfile), path.dirname(CHUNK_NAMES)), { recursive: true, force: true });
  const result = await build({
    ...options,
    metafile: true,
    plugins: opts.plugins === false ? [] : [...LAMBDA_PLUGINS],
  });
  const metafile = result.metafile as Metafile;
  const cwd = options.absWorkingDir ?? process.cwd();
  const files = Object.keys(metafile.outputs)
    .filter((o) => !o.endsWith('.map'))
    .map((o) => path.resolve(cwd, o));
  const size = (fs: string[]) => fs.reduce((n, f) => n + statSync(f).size, 0);
  return {
    file: outfile,
    bytes: size(staticClosure(metafile, outfile, cwd)),
    files,
    totalBytes: size(files),
    metafile,
  };
}

/** The child-process request `infra/function.ts` sends. */
export interface BundleRequest {
  entry: string;
  outfile: string;
  projectRoot: string;
  ports: BundlePorts;
}

/** This file, for `infra/function.ts` to run. */
export const BUNDLER_SCRIPT = path.join(import.meta.dirname, 'bundling-build.ts');

if (process.argv[1] && path.resolve(process.argv[1]) === BUNDLER_SCRIPT) {
  const req = JSON.parse(process.argv[2] ?? '{}') as BundleRequest;
  await bundleLambda(req.entry, req.outfile, { projectRoot: req.projectRoot, ports: req.ports });
}
