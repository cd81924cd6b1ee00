import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStreamSerde, eventStreamSerdeProvider } from '#adapters/aws/no-event-streams.ts';
import { buildTopology, type FunctionSpec } from '#core/topology.ts';
import {
  ALL_PORTS,
  type BundlePorts,
  bundleDefines,
  bundlePortsOf,
  LAMBDA_ALIASES,
  LAZY_ALIASES,
  portsForEntry,
} from '#infra/bundling.ts';
import { bundleLambda, inlineSchemaKeys, requireNodeHttp, staticClosure } from '#infra/bundling-build.ts';
import { CityLoopFunction, PROJECT_ROOT } from '#infra/function.ts';

const PROBE = 'test/unit/infra/bundling-fixtures/probe.ts';
const NODE = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
const NO_PORTS: BundlePorts = { eventBridge: false, sqs: false, s3: false, ses: false };
const functions = buildTopology([]).functions;

const spec = (over: Partial<FunctionSpec>): FunctionSpec => ({
  id: 'x',
  entry: 'functions/x.ts',
  description: 'x',
  memoryMb: 128,
  timeoutSec: 3,
  table: 'readwrite',
  putEvents: false,
  sendTo: [],
  blobs: 'none',
  ...over,
});

const inputsOf = (meta: Metafile): string[] =>
  Object.values(meta.outputs).flatMap((o) =>
    Object.keys(o.inputs).filter((k) => (o.inputs[k]?.bytesInOutput ?? 0) > 0),
  );

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cityloop-bundling-test-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('Function: bundlePortsOf', () => {
  it('should keep exactly the clients the spec grants', () => {
    // Prepare
    const web = spec({ sendTo: ['intake'] });
    const email = spec({ putEvents: true, sendTo: ['intake', 'notify'], blobs: 'readwrite', sendEmail: true });
    const notifier = spec({ sendTo: ['notify'], notifies: true });
    const consumer = spec({ receiveFrom: ['dlq'] });

    // Act
    const ports = [web, email, notifier, consumer, spec({})].map(bundlePortsOf);

    // Assess
    expect(ports).toEqual([
      { eventBridge: false, sqs: true, s3: false, ses: false },
      { eventBridge: true, sqs: true, s3: true, ses: true },
      { eventBridge: false, sqs: true, s3: false, ses: true },
      { eventBridge: false, sqs: true, s3: false, ses: false },
      NO_PORTS,
    ]);
  });

  it('should define a flag for each client left out, and none for a full bundle', () => {
    // Act
    const none = bundleDefines(NO_PORTS);
    const all = bundleDefines(ALL_PORTS);
    const noS3 = bundleDefines({ ...ALL_PORTS, s3: false });

    // Assess
    expect(Object.keys(none)).toHaveLength(4);
    expect(Object.values(none).every((v) => v === 'true')).toBe(true);
    expect(all).toEqual({});
    expect(noS3).toEqual({ 'globalThis.CITYLOOP_BUNDLE_OMIT_S3': 'true' });
  });
});

describe('Function: portsForEntry', () => {
  it('should take the union of the specs sharing an entry, and every client for an entry outside the topology', () => {
    // Prepare
    const shared = functions.filter((f) => f.entry === 'functions/http/requests.ts');

    // Act
    const union = portsForEntry('functions/http/requests.ts', functions, PROJECT_ROOT);
    const outside = portsForEntry(PROBE, functions, PROJECT_ROOT);

    // Assess
    expect(shared.length).toBeGreaterThan(1);
    for (const f of shared) {
      for (const [k, v] of Object.entries(bundlePortsOf(f))) if (v) expect(union[k as keyof BundlePorts]).toBe(true);
    }
    expect(outside).toEqual(ALL_PORTS);
  });

  it('should point every alias at an existing stand-in module', () => {
    // Assess
    for (const file of Object.values(LAMBDA_ALIASES)) expect(fs.existsSync(file)).toBe(true);
    for (const file of Object.values(LAZY_ALIASES)) expect(fs.existsSync(file)).toBe(true);
  });
});

describe('Module: no-event-streams', () => {
  it('should build the S3 config marshaller but refuse any event-stream use', () => {
    // Act
    const marshaller = eventStreamSerdeProvider({});

    // Assess
    expect(() => marshaller.serialize()).toThrow(/EVENT_STREAMS|event streams/);
    expect(() => new EventStreamSerde()).toThrowError(expect.objectContaining({ code: 'EVENT_STREAMS_NOT_BUNDLED' }));
  });
});

describe('Function: inlineSchemaKeys', () => {
  it('should write computed keys of module string constants as literals, and leave any other key alone', () => {
    // Prepare
    const source = [
      'const _h = "http";',
      'const _e = "error";',
      'let _l = "loose";',
      'const _d = "twice";',
      'const _d = "again";',
      'const _n = 42;',
      'export var A$ = [9, n0, { [_h]: ["POST", "/", 200] }, { [_e]: _h, [_l]: 1, [_d]: 2, [_n]: 3, [_x]: 4 }];',
    ].join('\n');

    // Act
    const { code, replaced } = inlineSchemaKeys(source);

    // Assess
    expect(replaced).toBe(2);
    expect(code).toContain('{ ["http"]: ["POST", "/", 200] }');
    expect(code).toContain('{ ["error"]: _h, [_l]: 1, [_d]: 2, [_n]: 3, [_x]: 4 }');
  });
});

describe('Function: requireNodeHttp', () => {
  it('should load node:http by require in the SDK handler, and leave every other import alone', () => {
    // Prepare
    const source =
      'const node_http = await import("node:http");\nconst a = await import(\'http\');\n' +
      'const b = await import("node:https");\nconst c = await import("./http.js");';

    // Act
    const { code, replaced } = requireNodeHttp(source);

    // Assess
    expect(replaced).toBe(2);
    expect(code).toContain('const node_http = await Promise.resolve(require("node:http"));');
    expect(code).toContain('const a = await Promise.resolve(require("node:http"));');
    expect(code).toContain('await import("node:https")');
    expect(code).toContain('await import("./http.js")');
  });
});

describe('Bundle: lazy chunks', () => {
  it('should load only the entry and its static chunks at import, with the SDK clients and photo paths in lazy chunks', async () => {
    // Prepare
    const web = functions.find((f) => f.id === 'web-requests')!;
    const lazyOnly =
      /@aws-sdk\/(client-(s3|sqs|sesv2|eventbridge)|s3-request-presigner)\/|functions\/http\/photos\.ts|functions\/http\/citizen-requests\.ts|fast-xml-parser/;

    // Act
    const b = await bundleLambda(web.entry, path.join(tmp, 'lazy', 'index.mjs'), { ports: bundlePortsOf(web) });
    const closure = staticClosure(b.metafile, b.file, PROJECT_ROOT);
    const rel = (f: string) => path.relative(PROJECT_ROOT, f).split(path.sep).join('/');
    const atImport = closure.flatMap((f) => Object.keys(b.metafile.outputs[rel(f)]?.inputs ?? {}));
    const everywhere = inputsOf(b.metafile);

    // Assess
    expect(closure[0]).toBe(b.file);
    expect(b.files.length).toBeGreaterThan(closure.length);
    expect(b.bytes).toBe(closure.reduce((n, f) => n + fs.statSync(f).size, 0));
    expect(b.totalBytes).toBeGreaterThan(b.bytes);
    expect(atImport.filter((i) => lazyOnly.test(i))).toEqual([]);
    expect(everywhere.some((i) => i.includes('@aws-sdk/client-sqs/'))).toBe(true);
    expect(everywhere.some((i) => i.includes('@aws-sdk/s3-request-presigner/'))).toBe(true);
    expect(everywhere.some((i) => i.includes('functions/http/citizen-requests.ts'))).toBe(true);
    for (const f of b.files) expect(fs.existsSync(f)).toBe(true);
    // each code file ships its map: a logged failure's stack is mapped from it (functions/lib/stack-trace.ts)
    for (const f of b.files.filter((x) => x.endsWith('.mjs'))) expect(fs.existsSync(`${f}.map`), f).toBe(true);
  });

  it('should build one file with no lazy chunk when asked (what-if builds)', async () => {
    // Prepare
    const web = functions.find((f) => f.id === 'web-requests')!;

    // Act
    const b = await bundleLambda(web.entry, path.join(tmp, 'one', 'index.mjs'), {
      ports: bundlePortsOf(web),
      lazy: false,
    });

    // Assess
    expect(b.files).toEqual([b.file]);
    expect(b.bytes).toBe(b.totalBytes);
    expect(fs.existsSync(path.join(tmp, 'one', 'chunks'))).toBe(false);
  });
});

describe('Bundle: ports left out', () => {
  it('should drop the S3, SES, SQS and EventBridge clients from a bundle whose spec uses none of them', async () => {
    // Prepare
    const metrics = functions.find((f) => f.id === 'supervisor-metrics')!;
    const clients = /@aws-sdk\/client-(s3|sesv2|sqs|eventbridge)\//;

    // Act
    const slim = await bundleLambda(metrics.entry, path.join(tmp, 'slim', 'index.mjs'), {
      ports: bundlePortsOf(metrics),
    });
    const full = await bundleLambda(metrics.entry, path.join(tmp, 'full', 'index.mjs'), { ports: ALL_PORTS });

    // Assess
    expect(bundlePortsOf(metrics)).toEqual(NO_PORTS);
    expect(inputsOf(slim.metafile).filter((i) => clients.test(i))).toEqual([]);
    expect(inputsOf(full.metafile).some((i) => clients.test(i))).toBe(true);
    expect(inputsOf(slim.metafile).some((i) => i.includes('credential-provider-node'))).toBe(false);
    expect(inputsOf(slim.metafile).some((i) => i.includes('submodules/event-streams'))).toBe(false);
  });
});

/** Checks a SigV4 header by recomputing it from the request as received (a POST to `/` without query). */
function verifySigV4(req: Recorded, secret: string): { ok: boolean; scope: string } {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return { ok: false, scope: '' };
  const [, , date, region, service, signedHeaders, signature] = m as unknown as string[];
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim()}\n`).join('');
  const hash = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
  const canonical = [req.method, req.path, '', canonicalHeaders, signedHeaders, hash(req.body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'], scope, hash(canonical)].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(date!).digest();
  for (const part of [region!, service!, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return { ok: createHmac('sha256', key).update(toSign).digest('hex') === signature, scope };
}

interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

describe('Bundle: AWS behaviour with the Lambda options', () => {
  let server: Server;
  let endpoint: string;
  const received: Recorded[] = [];

  beforeAll(async () => {
    let dynamoCalls = 0;
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
        );
        received.push({ method: req.method ?? '', path: req.url ?? '', headers, body: Buffer.concat(chunks) });
        if (req.method === 'PUT') {
          res.writeHead(200, { etag: '"e"' }).end();
          return;
        }
        if (req.url === '/v2/email/outbound-emails') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ MessageId: 'm-1' }));
          return;
        }
        dynamoCalls++;
        if (dynamoCalls === 1) {
          res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'once' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ Item: { pk: { S: 'a' }, sk: { S: 'b' } } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    endpoint = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('should resolve aws and aws-cn endpoints, sign with env credentials, retry, put to S3 and refuse a left-out port', async () => {
    // Prepare
    const outfile = path.join(tmp, 'probe', 'index.mjs');
    await bundleLambda(PROBE, outfile, { ports: NO_PORTS });
    const runner = path.join(tmp, 'probe', 'run.mjs');
    fs.writeFileSync(
      runner,
      `const m = await import(${JSON.stringify(pathToFileURL(outfile).href)});\n` +
        `process.stdout.write(JSON.stringify(await m.handler({ endpoint: process.argv[2] })));\n`,
    );
    const secret = 'probeSecretKey0123456789';
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_ACCESS_KEY_ID: 'AKIAPROBE',
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_SESSION_TOKEN: 'probe-session-token',
      // Nothing else to fall back on: no profile files, no metadata service.
      HOME: tmp,
      AWS_EC2_METADATA_DISABLED: 'true',
    };

    // Act
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(NODE, [runner, endpoint], { env, timeout: 20_000 }, (err, out, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
      );
    });
    const out = JSON.parse(stdout) as {
      endpoints: Record<string, { hostname: string; authorization?: string }>;
      item: unknown;
      attempts: number;
      putStatus: number;
      blobs: string;
      messageId: string;
    };

    // Assess
    expect(out.endpoints['us-east-1']?.hostname).toBe('dynamodb.us-east-1.amazonaws.com');
    expect(out.endpoints['cn-north-1']?.hostname).toBe('dynamodb.cn-north-1.amazonaws.com.cn');
    expect(out.endpoints['cn-north-1']?.authorization).toContain('Credential=AKIAPROBE/');
    expect(out.item).toEqual({ pk: { S: 'a' }, sk: { S: 'b' } });
    expect(out.attempts).toBe(2);
    const dynamoRequests = received.filter((r) => r.method === 'POST' && r.path === '/');
    expect(dynamoRequests).toHaveLength(2);
    for (const r of dynamoRequests) {
      expect(r.headers['x-amz-security-token']).toBe('probe-session-token');
      const check = verifySigV4(r, secret);
      expect(check.scope).toMatch(/^\d{8}\/cn-north-1\/dynamodb\/aws4_request$/);
      expect(check.ok).toBe(true);
    }
    const put = received.find((r) => r.method === 'PUT');
    expect(put?.path).toMatch(/^\/b\/k\.txt(\?|$)/);
    expect(put?.headers.authorization).toMatch(/\/cn-north-1\/s3\/aws4_request/);
    expect(out.putStatus).toBe(200);
    expect(out.blobs).toBe('PORT_NOT_BUNDLED');
    const mail = received.find((r) => r.path === '/v2/email/outbound-emails');
    expect(JSON.parse(mail?.body.toString('utf8') ?? '{}')).toEqual({
      FromEmailAddress: '12345@example.gov.cn',
      Destination: { ToAddresses: ['citizen@example.com'] },
      Content: { Simple: { Subject: { Data: '受理回执' }, Body: { Text: { Data: '您的诉求已受理' } } } },
    });
    expect(out.messageId).toBe('m-1');
  });
});

describe('Bundle: a port loaded from its lazy chunk', () => {
  it('should load the S3 adapter chunk on the first blob call and put the object', async () => {
    // Prepare
    const received: { method: string; path: string; auth: string }[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push({ method: req.method ?? '', path: req.url ?? '', auth: String(req.headers.authorization) });
        res.writeHead(200, { etag: '"e"' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    const outfile = path.join(tmp, 'lazy-probe', 'index.mjs');
    const b = await bundleLambda('test/unit/infra/bundling-fixtures/lazy-probe.ts', outfile, {
      ports: { eventBridge: false, sqs: false, s3: true, ses: false },
    });
    const runner = path.join(tmp, 'lazy-probe', 'run.mjs');
    fs.writeFileSync(
      runner,
      `const m = await import(${JSON.stringify(pathToFileURL(outfile).href)});\n` +
        `process.stdout.write(JSON.stringify(await m.handler({ endpoint: process.argv[2] })));\n`,
    );
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_ACCESS_KEY_ID: 'AKIAPROBE',
      AWS_SECRET_ACCESS_KEY: 'probeSecretKey0123456789',
      HOME: tmp,
      AWS_EC2_METADATA_DISABLED: 'true',
    };

    // Act
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(NODE, [runner, `http://127.0.0.1:${address.port}`], { env, timeout: 20_000 }, (err, out, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
      );
    }).finally(() => new Promise((resolve) => server.close(resolve)));

    // Assess
    const chunks = b.files.filter((f) => f !== outfile).map((f) => path.basename(f));
    expect(chunks.some((c) => c.startsWith('blobs-'))).toBe(true);
    expect(staticClosure(b.metafile, outfile, PROJECT_ROOT).some((f) => path.basename(f).startsWith('blobs-'))).toBe(
      false,
    );
    expect(JSON.parse(stdout)).toEqual({ ok: true });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'PUT' });
    expect(received[0]?.path).toMatch(/^\/b\/lazy\/k\.txt(\?|$)/);
    expect(received[0]?.auth).toMatch(/\/cn-north-1\/s3\/aws4_request/);
  });
});

describe('Class: CityLoopFunction bundling', () => {
  it('should deploy for each function the bytes bundleLambda builds for its entry and ports', async () => {
    // Prepare
    const outdir = path.join(tmp, 'cdk.out');
    const app = new App({ outdir });
    const stack = new Stack(app, 'BundlingProbe');
    const cases: { id: string; entry: string; ports: BundlePorts }[] = [
      { id: 'ProbeA', entry: PROBE, ports: { eventBridge: true, sqs: false, s3: true, ses: false } },
      { id: 'ProbeB', entry: PROBE, ports: NO_PORTS },
      { id: 'Other', entry: 'test/unit/infra/fixtures/handler.ts', ports: NO_PORTS },
    ];

    // Act
    for (const c of cases) {
      new CityLoopFunction(stack, c.id, {
        entry: c.entry,
        description: 'bundling probe',
        memoryMb: 128,
        timeout: Duration.seconds(3),
        ports: c.ports,
      });
    }
    const assembly = app.synth();
    const template = assembly.getStackByName('BundlingProbe').template as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string }; Handler?: string } }>;
    };
    const keyOf = (id: string) =>
      Object.entries(template.Resources).find(([k, r]) => k.startsWith(id) && r.Type === 'AWS::Lambda::Function')?.[1]
        .Properties;

    // Assess
    for (const c of cases) {
      const props = keyOf(c.id);
      expect(props?.Handler).toBe('index.handler');
      const hash = String(props?.Code?.S3Key).replace(/\.zip$/, '');
      const deployed = fs.readFileSync(path.join(outdir, `asset.${hash}`, 'index.mjs'), 'utf8');
      const direct = path.join(tmp, 'direct', c.id, 'index.mjs');
      const built = await bundleLambda(c.entry, direct, { ports: c.ports });
      expect(deployed).toBe(fs.readFileSync(direct, 'utf8'));
      // The lazy chunks travel in the same asset, byte for byte.
      for (const f of built.files) {
        const rel = path.relative(path.dirname(direct), f);
        expect(fs.readFileSync(path.join(outdir, `asset.${hash}`, rel), 'utf8')).toBe(fs.readFileSync(f, 'utf8'));
      }
    }
    expect(new Set(cases.map((c) => keyOf(c.id)?.Code?.S3Key)).size).toBe(cases.length);
  });
});
