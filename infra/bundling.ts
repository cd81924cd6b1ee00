/**
 * How a CityLoop Lambda bundle is built, in one place: these esbuild options, run by `infra/bundling-build.ts` (with
 * its SDK plugins) for the CDK stack (`infra/function.ts`), the bench and the tests alike, so what is measured is
 * what deploys (test/unit/infra/bundling.test.ts compares a CDK asset with a direct build, byte for byte).
 *
 * Cuts beyond plain tree-shaking, for the Lambda bundles only (the local stack, the CLI and the tests run the
 * modules unbundled, with the SDK's full behaviour):
 * - aliases: the SDK's default credential chain is swapped for env credentials (`adapters/aws/env-credentials.ts`),
 *   which is what Lambda provides, and the event-stream codec no CityLoop call uses for a module that refuses it
 *   (`adapters/aws/no-event-streams.ts`).
 * - ports: `define`s tell `functions/lib/runtime.ts` which SDK clients the function's topology spec leaves unused
 *   (EventBridge, SQS, S3, SES); esbuild folds them to constants and drops those clients from the bundle.
 * - SDK plugins (`infra/bundling-build.ts`): operation schemas made tree-shakable, package.json files reduced.
 * - lazy chunks: code splitting, and `functions/lib/aws-adapters.ts` aliased to its lazy twin, so that
 *   `functions/lib/runtime.ts` loads the EventBridge, SQS, S3 and SES adapters (with their SDK clients) by `import()`
 *   on a port's first call; other rarely used paths (S3 presigning, legacy mail charsets) are dynamic imports in the
 *   source. The entry is `index.mjs` as before; the lazy parts are `chunks/*.mjs` beside it in the same asset.
 *
 * Pure data and path arithmetic: no esbuild or CDK import, so the CDK app and the bench can both load it cheaply.
 */
import path from 'node:path';
import type { BuildOptions } from 'esbuild';
import type { FunctionSpec } from '#core/topology.ts';

/** The repository root (the alias targets live in it, whatever `projectRoot` a stack is given). */
const REPO_ROOT = path.resolve(import.meta.dirname, '..');

/**
 * ESM output runs CommonJS dependencies that call `require()` for Node built-ins (iconv-lite, mailparser …);
 * esbuild's ESM shim throws on a dynamic require unless a real `require` exists in module scope.
 */
export const ESM_REQUIRE_BANNER =
  "import{createRequire as __cityloopCreateRequire}from'node:module';const require=__cityloopCreateRequire(import.meta.url);";

/** The options every Lambda bundle shares. */
export const LAMBDA_BUNDLE = {
  format: 'esm',
  target: 'node24',
  platform: 'node',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  // Chinese strings stay UTF-8 instead of \uXXXX escapes.
  charset: 'utf8',
  logLevel: 'warning',
} as const;

/**
 * Packages replaced in Lambda bundles, by absolute path of the stand-in. Each stand-in keeps the exports its
 * importer (the SDK, mailparser) uses and their behaviour on the paths CityLoop takes; any other use throws.
 */
export const LAMBDA_ALIASES: Readonly<Record<string, string>> = {
  // The default chain (env, SSO, ini, process, web identity, container and instance metadata, with nested STS/SSO
  // clients): Lambda always passes the execution role's credentials in env.
  '@aws-sdk/credential-provider-node': path.join(REPO_ROOT, 'adapters', 'aws', 'env-credentials.ts'),
  // The event-stream codec: no CityLoop call streams events, and its lazy import defeats tree-shaking.
  '@smithy/core/event-streams': path.join(REPO_ROOT, 'adapters', 'aws', 'no-event-streams.ts'),
  // mailparser's HTML-to-text converter and linkifier: `channels/email/parse.ts` switches both off
  // (skipHtmlToText, skipTextToHtml, skipTextLinks), and they were ~180 kB and ~9 ms of the email cold start.
  'html-to-text': path.join(REPO_ROOT, 'channels', 'email', 'stand-ins', 'html-to-text.ts'),
  'linkify-it': path.join(REPO_ROOT, 'channels', 'email', 'stand-ins', 'linkify-it.ts'),
};

/** The SDK clients `functions/lib/runtime.ts` builds on demand; each may be left out of a bundle. */
export interface BundlePorts {
  /** EventBridge (`rt.bus`): the spec puts events. */
  eventBridge: boolean;
  /** SQS (`rt.queue`): the spec sends to or receives from a queue. */
  sqs: boolean;
  /** S3 (`rt.blobs`): the spec reads or writes blobs. */
  s3: boolean;
  /** SES (`rt.outbox`): the spec sends email or notifies citizens. */
  ses: boolean;
}

/** Every client in: what a bundle gets when nothing is known about its function. */
export const ALL_PORTS: Readonly<BundlePorts> = { eventBridge: true, sqs: true, s3: true, ses: true };

type PortFields = 'putEvents' | 'sendTo' | 'receiveFrom' | 'blobs' | 'sendEmail' | 'notifies';

/**
 * The clients a function needs, read from its topology spec: the same fields that give it env and IAM grants in the
 * stack, so a client left out is one the function has no permission to call anyway.
 */
export function bundlePortsOf(spec: Pick<FunctionSpec, PortFields>): BundlePorts {
  return {
    eventBridge: spec.putEvents,
    sqs: spec.sendTo.length > 0 || (spec.receiveFrom?.length ?? 0) > 0,
    s3: spec.blobs !== 'none',
    ses: spec.sendEmail === true || spec.notifies === true,
  };
}

/** Union: a bundle shared by several functions (one entry, several specs) needs what any of them needs. */
export function unionPorts(all: readonly BundlePorts[]): BundlePorts {
  return {
    eventBridge: all.some((p) => p.eventBridge),
    sqs: all.some((p) => p.sqs),
    s3: all.some((p) => p.s3),
    ses: all.some((p) => p.ses),
  };
}

/**
 * The ports of a bundle built from `entry` for whichever of `functions` use it (union), or every port when none
 * does (an entry outside the topology keeps the full runtime).
 */
export function portsForEntry(entry: string, functions: readonly FunctionSpec[], projectRoot: string): BundlePorts {
  const abs = path.resolve(projectRoot, entry);
  const specs = functions.filter((f) => path.resolve(projectRoot, f.entry) === abs);
  return specs.length ? unionPorts(specs.map(bundlePortsOf)) : { ...ALL_PORTS };
}

/** The `globalThis` flags `functions/lib/runtime.ts` tests, per port. */
export const PORT_FLAGS: Readonly<Record<keyof BundlePorts, string>> = {
  eventBridge: 'globalThis.CITYLOOP_BUNDLE_OMIT_EVENTBRIDGE',
  sqs: 'globalThis.CITYLOOP_BUNDLE_OMIT_SQS',
  s3: 'globalThis.CITYLOOP_BUNDLE_OMIT_S3',
  ses: 'globalThis.CITYLOOP_BUNDLE_OMIT_SES',
};

/**
 * Lazy chunks: the runtime's adapters module and the stand-in that loads each adapter on its port's first call (see
 * `functions/lib/aws-adapters-lazy.ts`).
 */
export const LAZY_ALIASES: Readonly<Record<string, string>> = {
  '#functions/lib/aws-adapters.ts': path.join(REPO_ROOT, 'functions', 'lib', 'aws-adapters-lazy.ts'),
};

/** Where esbuild writes the lazy chunks, beside the entry (relative to its folder). */
export const CHUNK_NAMES = 'chunks/[name]-[hash]';

/** esbuild `define`s for a bundle with `ports`: `true` for each client left out (nothing defined for the others). */
export function bundleDefines(ports: BundlePorts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(PORT_FLAGS) as (keyof BundlePorts)[]) {
    if (!ports[key]) out[PORT_FLAGS[key]] = 'true';
  }
  return out;
}

export interface LambdaBuildOptions {
  /** Where relative entries resolve and esbuild runs (CDK: the stack's `projectRoot`). Default: the repository. */
  projectRoot?: string;
  /** The clients to keep. Default: every one. */
  ports?: BundlePorts;
  /** Leave `@aws-sdk/*` and `@smithy/*` to the runtime (what-if builds only: the stack always bundles the SDK). */
  externalSdk?: boolean;
  /** Write a metafile (bench, profiling). */
  metafile?: boolean;
  /** What-if builds: other aliases (`{}`: the SDK as published). Default: `LAMBDA_ALIASES`, as deployed. */
  aliases?: Readonly<Record<string, string>>;
  /**
   * What-if builds: `false` for one file with everything in it (no lazy chunks, the adapters imported statically).
   * Default: true, as deployed.
   */
  lazy?: boolean;
}

/** The esbuild options of a Lambda bundle (`infra/bundling-build.ts` adds its plugins). */
export function lambdaEsbuildOptions(entry: string, outfile: string, opts: LambdaBuildOptions = {}): BuildOptions {
  const projectRoot = opts.projectRoot ?? REPO_ROOT;
  const lazy = opts.lazy ?? true;
  const ext = path.extname(outfile);
  // Split: the entry keeps `outfile`'s name, lazy chunks go under `chunks/` beside it.
  const output: BuildOptions = lazy
    ? {
        outdir: path.dirname(outfile),
        entryNames: path.basename(outfile, ext),
        chunkNames: CHUNK_NAMES,
        outExtension: { '.js': ext || '.js' },
        splitting: true,
      }
    : { outfile };
  return {
    entryPoints: [path.resolve(projectRoot, entry)],
    ...output,
    absWorkingDir: projectRoot,
    bundle: true,
    format: LAMBDA_BUNDLE.format,
    target: LAMBDA_BUNDLE.target,
    platform: LAMBDA_BUNDLE.platform,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    banner: { js: LAMBDA_BUNDLE.banner },
    minify: LAMBDA_BUNDLE.minify,
    sourcemap: LAMBDA_BUNDLE.sourcemap,
    sourcesContent: LAMBDA_BUNDLE.sourcesContent,
    charset: LAMBDA_BUNDLE.charset,
    logLevel: LAMBDA_BUNDLE.logLevel,
    define: bundleDefines(opts.ports ?? ALL_PORTS),
    alias: { ...(opts.aliases ?? LAMBDA_ALIASES), ...(lazy ? LAZY_ALIASES : {}) },
    external: opts.externalSdk ? ['@aws-sdk/*', '@smithy/*'] : [],
    metafile: opts.metafile ?? false,
  };
}
