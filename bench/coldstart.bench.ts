/**
 * Cold start (`npm run bench -- coldstart`): every function of the topology bundled the way the CDK stack bundles it
 * (`infra/bundling.ts`: the options `infra/function.ts` hands to CDK, with the aliases and the per-function port
 * `define`s), its size and what makes it big (esbuild metafile), and the time a fresh Node process takes to import it
 * and answer a first sample event against the local emulators. A few what-if builds beside it (the build before
 * issue #12, the SDK left to the runtime, a function's own ports). Targets: ≤ 250 kB per bundle, ≤ 100 ms from
 * import to the first result.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { normalizeIntake } from '#core/intake/normalize.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { buildTopology, type FunctionSpec } from '#core/topology.ts';
import { ALL_PORTS, type BundlePorts, bundlePortsOf, lambdaEsbuildOptions, portsForEntry } from '#infra/bundling.ts';
import { type BundleLambdaOptions, bundleLambda, LAMBDA_PLUGINS, staticClosure } from '#infra/bundling-build.ts';
import { bundleDir, contributions, PROJECT_ROOT, sdkBytes } from '../scripts/bundle.ts';
import { httpEvent, startBenchAws } from './harness.ts';
import { kB, median } from './measure.ts';
import type { BenchSuite, BenchTable } from './types.ts';

const NODE = join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
const TARGET_BYTES = 250 * 1024;
const TARGET_MS = 100;

interface Built {
  file: string;
  /** The entry and the chunks it imports statically (what the import alone loads). */
  bytes: number;
  /** Every JavaScript file of the asset (entry and lazy chunks), without source maps. */
  totalBytes: number;
  /** gzip of the entry and its static chunks. */
  gzipBytes: number;
  metafile: Metafile;
}

/** The bundle of `f` into `<dir>/index.mjs` (+ map, + `chunks/`), as CDK's asset folder; default options: as deployed. */
async function buildFunction(f: FunctionSpec, dir: string, opts: BundleLambdaOptions): Promise<Built> {
  const b = await bundleLambda(f.entry, join(dir, 'index.mjs'), opts);
  const cwd = PROJECT_ROOT;
  const gzipBytes = staticClosure(b.metafile, b.file, cwd).reduce((n, x) => n + gzipSync(readFileSync(x)).length, 0);
  return { file: b.file, bytes: b.bytes, totalBytes: b.totalBytes, gzipBytes, metafile: b.metafile };
}

/** Bytes of the files a run loaded (entry and chunks, from the child's own list), or the static closure. */
function loadedBytes(loaded: readonly string[] | undefined, fallback: number): number {
  if (!loaded?.length) return fallback;
  return loaded.reduce((n, url) => n + statSync(fileURLToPath(url)).size, 0);
}

/** What-if builds of a few functions, beside the deployed one (key, label, options from the function's spec). */
const VARIANTS: [string, string, (f: FunctionSpec, deployed: BundlePorts) => BundleLambdaOptions][] = [
  [
    'before',
    'before #12: default credential chain, event streams, every client, SDK as published',
    () => ({ aliases: {}, ports: ALL_PORTS, plugins: false, lazy: false }),
  ],
  [
    'one-file',
    'one file: the same source without code splitting (each import() target inlined)',
    (_f, ports) => ({ ports, lazy: false }),
  ],
  ['no-plugins', 'without the SDK plugins (schema keys, package info)', (_f, ports) => ({ ports, plugins: false })],
  ['sdk-external', 'SDK from the runtime', (_f, ports) => ({ externalSdk: true, ports })],
  [
    'own-ports',
    "its own spec's clients (stack passing `ports: bundlePortsOf(spec)`)",
    (f) => ({ ports: bundlePortsOf(f) }),
  ],
];

/** The child: import the bundle, answer one event, report the times (ms since process start for the boot). */
const RUNNER = `import { readFileSync, writeFileSync } from 'node:fs';
const [bundle, eventFile, outFile] = process.argv.slice(2);
const c0 = process.cpuUsage();
const t0 = performance.now();
const mod = await import(bundle);
const t1 = performance.now();
const c1 = process.cpuUsage(c0);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = { functionName: 'coldstart', awsRequestId: 'coldstart', getRemainingTimeInMillis: () => 10000,
  callbackWaitsForEmptyEventLoop: false };
let status = 'ok';
try {
  const res = await mod.handler(event, context);
  if (res && typeof res === 'object') {
    if ('statusCode' in res) status = String(res.statusCode);
    else if (Array.isArray(res.batchItemFailures)) status = res.batchItemFailures.length ? 'batch failures' : 'ok';
  }
} catch (e) { status = 'threw: ' + String(e && e.message || e).slice(0, 80); }
const t2 = performance.now();
const c2 = process.cpuUsage(c0);
// Resident memory and the V8 heap in use after the first answer (not resourceUsage().maxRSS: on Linux a child
// spawned by a large parent inherits the parent's peak across fork and exec).
const { rss: rssBytes, heapUsed: heapUsedBytes } = process.memoryUsage();
// Which files of the bundle the import and the first event loaded (entry, static and lazy chunks): asked of the
// inspector only now, after the timings (enabling the debugger lists every script parsed so far).
const { Session } = await import('node:inspector/promises');
const session = new Session();
session.connect();
const loaded = new Set();
const root = new URL('.', bundle).href;
session.on('Debugger.scriptParsed', (m) => { if (m.params.url.startsWith(root)) loaded.add(m.params.url); });
await session.post('Debugger.enable');
await session.post('Debugger.disable');
session.disconnect();
writeFileSync(outFile, JSON.stringify({ bootMs: t0, importMs: t1 - t0, importCpuMs: (c1.user + c1.system) / 1000,
  firstMs: t2 - t1, firstCpuMs: (c2.user + c2.system - c1.user - c1.system) / 1000, rssBytes, heapUsedBytes, status,
  loaded: [...loaded] }));
process.exit(0);
`;

interface Run {
  bootMs: number;
  importMs: number;
  /** CPU time of the import (all threads): less sensitive than wall time to other load on the machine. */
  importCpuMs: number;
  firstMs: number;
  /** CPU time of the first event in the child (the emulators run in this process, not counted). */
  firstCpuMs: number;
  /** Resident set of the child after the first answer (bytes). */
  rssBytes: number;
  /** V8 heap in use after the first answer (bytes). */
  heapUsedBytes: number;
  status: string;
  /** `file:` URLs of the bundle's files the import and the first event loaded. */
  loaded?: string[];
}

function runOnce(bundle: string, eventFile: string, outFile: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      NODE,
      [
        // `COLDSTART_CPU_PROF=<dir>`: a V8 CPU profile of every child (import and first event) in that folder.
        ...(process.env.COLDSTART_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.COLDSTART_CPU_PROF] : []),
        join(outFile, '..', '..', 'runner.mjs'),
        pathToFileURL(bundle).href,
        eventFile,
        outFile,
      ],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (err) => {
        if (err) return reject(err);
        try {
          resolve(JSON.parse(readFileSync(outFile, 'utf8')) as Run);
        } catch (e) {
          reject(e);
        }
      },
    );
  });
}

const claims = (sub: string, group: string) => ({
  authorizer: { jwt: { claims: { sub, 'cognito:username': sub, 'cognito:groups': `[${group}]` }, scopes: [] } },
});

function withAuth(e: Record<string, unknown>, sub: string, group: string): Record<string, unknown> {
  return { ...e, requestContext: { ...(e.requestContext as object), ...claims(sub, group) } };
}

const WECHAT_TOKEN = 'coldstart-token';

/** A first event per function: what it most often answers, or the cheapest real request where setup would be long. */
export function sampleEvent(f: FunctionSpec, dataDir: string, round: number): { event: unknown; what: string } {
  const body = {
    title: '路灯不亮',
    text: '和平路88号门口的路灯坏了一个星期，晚上很黑，请尽快维修。',
    citizen: { phone: '13800138000' },
    location: { address: '和平路88号' },
  };
  switch (f.id) {
    case 'web-requests':
      return { event: httpEvent('POST', '/api/requests', '/api/requests', body), what: 'POST /api/requests' };
    case 'web-citizen':
      return {
        event: httpEvent(
          'POST',
          '/api/requests/{trackingNo}/updates',
          '/api/requests/20260310000001/updates',
          {
            text: '补充：灯杆上有编号 A-17',
            token: 'x',
          },
          {},
          { pathParameters: { trackingNo: '20260310000001' } },
        ),
        what: 'POST …/updates (unknown number → 404)',
      };
    case 'triage': {
      const request = normalizeIntake({
        channel: 'web',
        channelMessageId: 'key:coldstart-0001',
        receivedAt: '2026-03-10T10:00:00+08:00',
        ...body,
        language: 'zh-CN',
      });
      const report = {
        trackingNo: '20260310000001',
        idemKey: 'web#key:coldstart-0001',
        request,
        acceptedAt: request.receivedAt,
      };
      return {
        event: {
          Records: [
            {
              messageId: 'm-1',
              receiptHandle: 'r-1',
              body: JSON.stringify({ report }),
              attributes: {
                ApproximateReceiveCount: '1',
                SentTimestamp: '0',
                SenderId: 'x',
                ApproximateFirstReceiveTimestamp: '0',
              },
              messageAttributes: {},
              md5OfBody: '',
              eventSource: 'aws:sqs',
              eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:cityloop-intake',
              awsRegion: 'us-east-1',
            },
          ],
        },
        what: 'SQS batch of 1 report',
      };
    }
    case 'notify':
      // No SNS emulator here (and no network beyond loopback): a notice the consumer reads, validates and refuses.
      return {
        event: {
          Records: [
            {
              messageId: 'n-1',
              receiptHandle: 'r-1',
              body: JSON.stringify({ channel: 'fax', to: '13800138000', trackingNo: '20260310000001' }),
              attributes: {},
              messageAttributes: {},
              md5OfBody: '',
              eventSource: 'aws:sqs',
              eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:cityloop-notify',
              awsRegion: 'us-east-1',
            },
          ],
        },
        what: 'SQS batch of 1 notice on an unknown channel (refused)',
      };
    case 'sweep':
      return {
        event: {
          version: '0',
          id: 'x',
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          time: new Date().toISOString(),
          detail: {},
        },
        what: 'scheduled tick',
      };
    case 'wechat-push': {
      // A citizen's text message, plain mode: signature check, XML, raw input kept, report accepted, reply.
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = `coldstart${round}`;
      const signature = createHash('sha1').update([WECHAT_TOKEN, timestamp, nonce].sort().join('')).digest('hex');
      const xml =
        `<xml><ToUserName><![CDATA[gh_coldstart]]></ToUserName><FromUserName><![CDATA[oColdStart${round}]]></FromUserName>` +
        `<CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${body.text}]]></Content>` +
        `<MsgId>${2345678901234500 + round}</MsgId></xml>`;
      return {
        event: httpEvent(
          'POST',
          '/channels/wechat/push',
          '/channels/wechat/push',
          xml,
          { 'content-type': 'text/xml' },
          {
            queryStringParameters: { signature, timestamp, nonce, openid: `oColdStart${round}` },
          },
        ),
        what: 'POST a text message (plain mode)',
      };
    }
    case 'wechat-miniprogram':
      return {
        event: httpEvent('GET', '/channels/wechat/miniprogram/mine', '/channels/wechat/miniprogram/mine'),
        what: 'GET mine without a session (401)',
      };
    case 'email-inbound': {
      const id = 'coldstart0001';
      const raw = [
        'From: =?UTF-8?B?5byg5LiJ?= <zhangsan@example.com>',
        'To: 12345@example.gov.cn',
        'Subject: =?UTF-8?B?6Lev54Gv5LiN5Lqu?=',
        'Message-ID: <coldstart0001@example.com>',
        'Date: Tue, 10 Mar 2026 10:00:00 +0800',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=UTF-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        '和平路88号门口的路灯坏了一个星期，晚上很黑，请尽快维修。',
        '',
      ].join('\r\n');
      const file = join(dataDir, 'blobs', 'raw', 'email', 'ses', id);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, raw);
      return {
        event: {
          Records: [
            {
              eventSource: 'aws:ses',
              eventVersion: '1.0',
              ses: {
                mail: {
                  messageId: id,
                  timestamp: '2026-03-10T02:00:00.000Z',
                  source: 'zhangsan@example.com',
                  destination: ['12345@example.gov.cn'],
                },
                receipt: {
                  timestamp: '2026-03-10T02:00:00.000Z',
                  recipients: ['12345@example.gov.cn'],
                  spamVerdict: { status: 'PASS' },
                  virusVerdict: { status: 'PASS' },
                  spfVerdict: { status: 'PASS' },
                  dkimVerdict: { status: 'PASS' },
                  dmarcVerdict: { status: 'PASS' },
                },
              },
            },
          ],
        },
        what: 'SES receipt of a plain Chinese email',
      };
    }
    case 'dept-api':
      return {
        event: withAuth(
          httpEvent('GET', '/api/dept/cases', '/api/dept/cases'),
          'local-dept-chengguan',
          'dept-chengguan',
        ),
        what: 'GET /api/dept/cases',
      };
    case 'supervisor-api':
      return {
        event: withAuth(
          httpEvent('GET', '/api/supervisor/cases', '/api/supervisor/cases'),
          'local-supervisor-001',
          'supervisors',
        ),
        what: 'GET /api/supervisor/cases',
      };
    case 'supervisor-metrics':
      return {
        event: withAuth(
          httpEvent('GET', '/api/supervisor/metrics', '/api/supervisor/metrics'),
          'local-supervisor-001',
          'supervisors',
        ),
        what: 'GET /api/supervisor/metrics',
      };
    case 'open311':
      return {
        event: httpEvent(
          'GET',
          '/open311/v2/{proxy+}',
          '/open311/v2/services.json',
          undefined,
          {},
          { pathParameters: { proxy: 'services.json' } },
        ),
        what: 'GET services.json',
      };
    case 'hotline-agent':
      return {
        event: withAuth(
          httpEvent('POST', '/api/agent/assist', '/api/agent/assist', { text: body.text, title: body.title }),
          'local-agent-001',
          'agents',
        ),
        what: 'POST /api/agent/assist',
      };
    case 'duplicates':
      return {
        event: withAuth(
          httpEvent('POST', '/api/agent/duplicates', '/api/agent/duplicates', {
            text: body.text,
            location: body.location,
          }),
          'local-agent-001',
          'agents',
        ),
        what: 'POST /api/agent/duplicates',
      };
    case 'connect-contact': {
      const file = join(PROJECT_ROOT, '..', 'shared', 'data', 'aws-events', 'connectContactFlowEventAll.json');
      try {
        return { event: JSON.parse(readFileSync(file, 'utf8')), what: 'Amazon Connect contact flow event' };
      } catch {
        return {
          event: { Name: 'ContactFlowEvent', Details: { ContactData: { ContactId: 'c-1' }, Parameters: {} } },
          what: 'minimal contact flow event',
        };
      }
    }
    default: {
      const r = f.routes?.find((x) => x.method === 'GET') ?? f.routes?.[0];
      if (r) {
        const path = r.path.replace(/\{(\w+)\+?\}/g, 'x');
        return { event: httpEvent(r.method, r.path, path), what: `${r.method} ${r.path} (generic)` };
      }
      return { event: {}, what: 'empty event (generic)' };
    }
  }
}

const suite: BenchSuite = async ({ quick }) => {
  const topology = buildTopology(defaultDepartments);
  // `COLDSTART_ONLY=sweep,notify npm run bench -- coldstart`: measure only these functions (while working on them).
  const only = (process.env.COLDSTART_ONLY ?? '').split(',').filter(Boolean);
  const functions = topology.functions.filter((f) => only.length === 0 || only.includes(f.id));
  const out = bundleDir('cityloop-coldstart-');
  const runs = quick ? 2 : 3;
  try {
    writeFileSync(join(out, 'runner.mjs'), RUNNER);
    // Bare `@aws-sdk/*` imports of the external-SDK bundles resolve here (on Lambda: the runtime's copy).
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
    // As CDK builds them: one bundle per function (functions sharing an entry get the union of their ports, which
    // is what infra/function.ts does unless the stack passes a function's own).
    const deployedPorts = new Map(
      topology.functions.map((f) => [f.id, portsForEntry(f.entry, topology.functions, PROJECT_ROOT)]),
    );
    const bundled = new Map<string, Built>();
    for (const f of functions) {
      bundled.set(f.id, await buildFunction(f, join(out, 'deployed', f.id), { ports: deployedPorts.get(f.id)! }));
    }
    const compared = functions.filter((f) => f.id === 'web-requests' || f.id === 'triage');
    const variants: { key: string; label: string; built: Map<string, Built> }[] = [];
    for (const [key, label, optsOf] of VARIANTS) {
      const built = new Map<string, Built>();
      for (const f of compared) {
        built.set(f.id, await buildFunction(f, join(out, key, f.id), optsOf(f, deployedPorts.get(f.id)!)));
      }
      variants.push({ key, label, built });
    }
    // The floor: one SDK client and nothing else, with the deployed options.
    const floorFile = join(out, 'floor', 'index.mjs');
    const floorOpts = lambdaEsbuildOptions('x', floorFile, { ports: ALL_PORTS });
    delete floorOpts.entryPoints;
    await build({
      ...floorOpts,
      plugins: [...LAMBDA_PLUGINS],
      stdin: {
        contents:
          "import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';\n" +
          'export const handler = async () => { const c = new DynamoDBClient({}); return c.send(new GetItemCommand({ TableName: process.env.TABLE_NAME, Key: { pk: { S: "x" }, sk: { S: "y" } } })).then(() => ({ statusCode: 200 })); };',
        resolveDir: PROJECT_ROOT,
        loader: 'ts',
        sourcefile: 'floor.ts',
      },
    });

    const aws = await startBenchAws();
    try {
      const env: Record<string, string> = {
        ...aws.env,
        // as deployed: infra/function.ts sets no NODE_OPTIONS (stacks are mapped when a failure is logged)
        NODE_OPTIONS: '',
        WECHAT_TOKEN,
        WECHAT_APP_ID: 'wxcoldstart0000001',
        WECHAT_ALLOW_PLAIN: 'true',
        WECHAT_MP_APP_ID: 'wxcoldstart0000002',
        WECHAT_MP_APP_SECRET: 'coldstart',
        WECHAT_SESSION_SECRET: 'coldstart-session-secret-0123456789abcdef',
        LOG_LEVEL: 'warn',
      };
      const events = join(out, 'events');
      mkdirSync(join(out, 'results'), { recursive: true });
      mkdirSync(events, { recursive: true });
      const whatOf = new Map<string, string>();
      // Fresh events each round (WeChat refuses a nonce twice).
      const writeEvents = (round: number) => {
        for (const f of topology.functions) {
          const s = sampleEvent(f, aws.dataDir, round);
          whatOf.set(f.id, s.what);
          writeFileSync(join(events, `${f.id}.json`), JSON.stringify(s.event));
        }
      };
      const result = join(out, 'results', 'run.json');
      const times = new Map<string, Run[]>();
      const measure = async (key: string, file: string, eventId: string, runEnv = env) => {
        const r = await runOnce(file, join(events, `${eventId}.json`), result, runEnv);
        times.set(key, [...(times.get(key) ?? []), r]);
      };
      // Rounds interleaved, so machine load hits every bundle alike (the bundles were just written: in the file cache).
      for (let round = 0; round < runs; round++) {
        writeEvents(round);
        for (const f of functions) await measure(f.id, bundled.get(f.id)!.file, f.id);
        for (const f of compared) {
          for (const v of variants) await measure(`${f.id} (${v.key})`, v.built.get(f.id)!.file, f.id);
          // The deployed bundle in a process with `--enable-source-maps` (what mapping every stack at load would
          // cost: Node reads each loaded file's map as it loads it).
          const maps = { ...env, NODE_OPTIONS: '--enable-source-maps' };
          await measure(`${f.id} (maps)`, bundled.get(f.id)!.file, f.id, maps);
        }
        await measure('floor', floorFile, 'web-requests');
      }
      const total = (r: Run) => r.importMs + r.firstMs;
      const med = (key: string, pick: (r: Run) => number) => median((times.get(key) ?? []).map(pick));
      /** The least disturbed run (load from other processes only ever adds time). */
      const bestRun = (key: string): Run => [...(times.get(key) ?? [])].sort((a, b) => total(a) - total(b))[0]!;
      const best = (key: string, pick: (r: Run) => number) => pick(bestRun(key));

      /** Bytes the first event of `key` needed loaded: entry, static and lazy chunks (the most any run loaded). */
      const used = (key: string, b: Built) =>
        Math.max(...(times.get(key) ?? []).map((r) => loadedBytes(r.loaded, b.bytes)));
      const rows = functions.map((f) => {
        const b = bundled.get(f.id)!;
        const t = best(f.id, total);
        const bytes = used(f.id, b);
        const ok = bytes <= TARGET_BYTES && t <= TARGET_MS;
        return [
          f.id,
          `${f.memoryMb} MB`,
          kB(bytes),
          kB(b.totalBytes),
          kB(b.gzipBytes),
          `${Math.round((sdkBytes(b.metafile) / b.totalBytes) * 100)}%`,
          best(f.id, (r) => r.importMs).toFixed(0),
          median((times.get(f.id) ?? []).map((r) => r.importCpuMs)).toFixed(0),
          best(f.id, (r) => r.firstMs).toFixed(0),
          median((times.get(f.id) ?? []).map((r) => r.firstCpuMs)).toFixed(0),
          t.toFixed(0),
          med(f.id, total).toFixed(0),
          `${Math.round(Math.max(...(times.get(f.id) ?? []).map((r) => r.rssBytes)) / 1048576)} MB of ${f.memoryMb}`,
          `${(median((times.get(f.id) ?? []).map((r) => r.heapUsedBytes)) / 1048576).toFixed(1)} MB`,
          `${whatOf.get(f.id)} → ${times.get(f.id)?.[0]?.status ?? '?'}`,
          ok ? 'met' : 'MISSED',
        ];
      });
      const sizes = functions.map((f) => used(f.id, bundled.get(f.id)!));
      const totals = functions.map((f) => best(f.id, total));
      const perFunction: BenchTable = {
        title: `Cold start per function: bundle built like CDK, fresh Node ${process.version} process (best of ${runs})`,
        columns: [
          'function',
          'memory',
          'loaded by import + first event',
          'asset (all chunks)',
          'gzip (import)',
          'AWS SDK share (asset)',
          'import ms',
          'import CPU ms (median)',
          'first event ms',
          'first event CPU ms (median)',
          'import + first ms',
          `median of ${runs}`,
          'memory (RSS) after the first answer / configured',
          'V8 heap used (median)',
          'first event → answer',
          'target ≤ 250 kB, ≤ 100 ms',
        ],
        rows,
        notes: [
          'Bundles: esbuild with the options infra/function.ts gives CDK (infra/bundling.ts: ESM, node24, minified, source ' +
            'map, AWS SDK bundled with the Lambda aliases, the clients of the spec), into a temp folder. The child process ' +
            "runs without NODE_OPTIONS as deployed (no --enable-source-maps: a logged failure's stack is mapped then, " +
            'functions/lib/stack-trace.ts), env pointing ' +
            'at the local emulators (blobs and outbox as files); times are from the start of the import to the first ' +
            `answer, without Node's own boot (median ${median(functions.flatMap((f) => (times.get(f.id) ?? []).map((r) => r.bootMs))).toFixed(0)} ms here).`,
          'Sizes: the asset is the entry `index.mjs` and its lazy `chunks/` (code splitting, infra/bundling.ts). "Loaded by ' +
            'import + first event" counts every file of the asset the child process had parsed by the time it answered ' +
            '(asked of the inspector after the timings), so a lazy chunk the first event needs is counted; that is the ' +
            'figure held to the 250 kB target. The gzip column is of the entry and its static chunks.',
          'One full core here; on Lambda the CPU share grows with the memory setting, so a 512 MB function starts slower ' +
            'than these figures. First-event times include the first connection to each emulator. Wall times grow with ' +
            'other load on the machine (see its load average above); the import CPU time much less so.',
          'Memory: the resident set of the child after its first answer (`process.memoryUsage().rss`, the most of any ' +
            'run; it includes Node itself, as Lambda\'s "Max Memory Used" does) beside the memory setting of ' +
            'core/topology.ts, and the V8 heap in use then. The setting buys CPU share on Lambda, so it is above what ' +
            'the function needs to hold.',
        ],
        figures: [
          {
            name: 'cold start: largest bundle',
            value: kB(Math.max(...sizes)),
            target: '≤ 250 kB',
            met: Math.max(...sizes) <= TARGET_BYTES,
          },
          {
            name: 'cold start: bundles within 250 kB',
            value: `${sizes.filter((s) => s <= TARGET_BYTES).length} of ${sizes.length}`,
            target: 'all',
            met: sizes.every((s) => s <= TARGET_BYTES),
          },
          {
            name: 'cold start: slowest import + first event',
            value: `${Math.max(...totals).toFixed(0)} ms`,
            target: '≤ 100 ms',
            met: Math.max(...totals) <= TARGET_MS,
          },
          {
            name: 'cold start: functions within 100 ms',
            value: `${totals.filter((t) => t <= TARGET_MS).length} of ${totals.length}`,
            target: 'all',
            met: totals.every((t) => t <= TARGET_MS),
          },
        ],
      };

      const floorSize = readFileSync(floorFile).length;
      const row = (label: string, bytes: number, key: string) => [
        label,
        kB(bytes),
        best(key, (r) => r.importMs).toFixed(0),
        med(key, (r) => r.importCpuMs).toFixed(0),
        best(key, (r) => r.firstMs).toFixed(0),
        best(key, total).toFixed(0),
        med(key, total).toFixed(0),
      ];
      const tradeRows = compared.flatMap((f) => [
        row(`${f.id}, as deployed`, used(f.id, bundled.get(f.id)!), f.id),
        ...variants.map((v) =>
          row(`${f.id}, ${v.label}`, used(`${f.id} (${v.key})`, v.built.get(f.id)!), `${f.id} (${v.key})`),
        ),
        row(
          `${f.id}, as deployed but run with --enable-source-maps`,
          used(`${f.id} (maps)`, bundled.get(f.id)!),
          `${f.id} (maps)`,
        ),
      ]);
      tradeRows.push(row('floor: one DynamoDBClient + one GetItem, nothing else', floorSize, 'floor'));
      const tradeOff: BenchTable = {
        title: 'What each cut is worth: the deployed build beside what-if builds',
        columns: [
          'bundle',
          'size',
          'import ms',
          'import CPU ms (median)',
          'first event ms',
          'import + first ms',
          `median of ${runs}`,
        ],
        rows: tradeRows,
        notes: [
          'As deployed (infra/bundling.ts, built by infra/bundling-build.ts): the SDK bundled; its default credential chain (SSO, ini, process, web ' +
            'identity, metadata, with their nested STS/SSO clients) aliased to adapters/aws/env-credentials.ts, since ' +
            'Lambda passes the role credentials in env; the event-stream codec aliased to adapters/aws/no-event-streams.ts; ' +
            'and only the SDK clients the topology spec uses (EventBridge, SQS, S3, SES), by esbuild `define`s that ' +
            'functions/lib/runtime.ts tests (functions sharing an entry, web-requests and web-citizen, get the union); ' +
            'and two esbuild plugins on SDK files: operation schemas keyed by literals so unused shapes are dropped, ' +
            'package.json reduced to name and version.',
          'before #12: the same entry with the published SDK (no aliases, no plugins), every client, in one file.',
          'one file: as deployed but without code splitting, so every client of the spec and every rarely used path ' +
            '(photos, S3 presigning, the citizen view, the case service of a reply) is loaded and compiled at import. ' +
            'With --enable-source-maps: the deployed files in a process where Node maps every stack (it reads and ' +
            "indexes each loaded file's map at load); deployed, the logs map a failure's stack when it is logged instead.",
          'SDK from the runtime: `@aws-sdk/*` and `@smithy/*` left out and loaded from node_modules (on Lambda, the ' +
            "runtime's own copy, whose version the deployment does not pin): Node then loads the SDK file by file.",
          "its own spec's clients: what the function would weigh if infra/stack.ts passed `ports: bundlePortsOf(spec)`.",
          'The floor is what any function pays to talk to DynamoDB with SDK v3 at all, with the deployed aliases. Most ' +
            'of an import is V8 compiling the bundle (node --cpu-prof: compileSourceTextModule), so bytes are milliseconds.',
        ],
      };

      // What makes them big: the largest contributors, per package or project folder, in a few bundles.
      const shown = functions.filter((f) =>
        ['web-requests', 'triage', 'email-inbound', 'hotline-agent', 'open311'].includes(f.id),
      );
      const contrib = new Map<string, Map<string, number>>();
      for (const f of shown) {
        for (const c of contributions(bundled.get(f.id)!.metafile)) {
          const m = contrib.get(c.owner) ?? new Map<string, number>();
          m.set(f.id, c.bytes);
          contrib.set(c.owner, m);
        }
      }
      const top = [...contrib.entries()]
        .map(([owner, m]) => ({ owner, max: Math.max(...m.values()), m }))
        .sort((a, b) => b.max - a.max)
        .slice(0, quick ? 10 : 16);
      const bigTable: BenchTable = {
        title: 'What makes the bundles big (bytes in the minified output, esbuild metafile)',
        columns: ['package or folder', ...shown.map((f) => f.id)],
        rows: top.map((t) => [t.owner, ...shown.map((f) => (t.m.get(f.id) ? kB(t.m.get(f.id)!) : ''))]),
        notes: [
          '`npx tsx scripts/bundle.ts [--external-sdk] [--env-credentials] [--top N] [function-id …]` prints this for ' +
            'any function.',
        ],
      };
      return [perFunction, tradeOff, bigTable];
    } finally {
      await aws.stop();
    }
  } finally {
    // With a CPU profile asked for, the bundles (and their source maps) stay for reading it.
    if (!process.env.COLDSTART_CPU_PROF) rmSync(out, { recursive: true, force: true });
  }
};

export default suite;
