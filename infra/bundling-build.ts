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
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { type BundlePorts, type LambdaBuildOptions, lambdaEsbuildOptions } from './bundling.ts';

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

/** The plugins of every deployed Lambda bundle. */
export const LAMBDA_PLUGINS: readonly Plugin[] = [sdkSchemaKeysPlugin, sdkPackageInfoPlugin];

export interface BundleLambdaOptions extends LambdaBuildOptions {
  /** What-if builds: without the plugins (the SDK files as published). Default: true, as deployed. */
  plugins?: boolean;
}

export interface LambdaBundle {
  file: string;
  bytes: number;
  metafile: Metafile;
}

/** Builds `entry` into `outfile` (+ `.map`) exactly as the stack deploys it. */
export async function bundleLambda(
  entry: string,
  outfile: string,
  opts: BundleLambdaOptions = {},
): Promise<LambdaBundle> {
  const result = await build({
    ...lambdaEsbuildOptions(entry, outfile, opts),
    metafile: true,
    plugins: opts.plugins === false ? [] : [...LAMBDA_PLUGINS],
  });
  return { file: outfile, bytes: statSync(outfile).size, metafile: result.metafile as Metafile };
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
