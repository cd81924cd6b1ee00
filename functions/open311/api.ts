/**
 * Open311 GeoReport v2 (`/open311/v2/*`), XML and JSON, plus the mySociety `servicerequestupdates` extension:
 *
 *   GET  discovery.{fmt}                 GET  services.{fmt}          GET services/{code}.{fmt}
 *   POST requests.{fmt}   (api_key)      GET  requests.{fmt}          GET requests/{id}.{fmt}
 *   GET  tokens/{token}.{fmt}            GET  servicerequestupdates.{fmt}
 *   POST servicerequestupdates.{fmt} (api_key)
 *
 * Order of checks: path and format (404/400) → query (400) → body: type, size, encoding (415/413/400) →
 * jurisdiction_id (404) → api_key for writes (403) → rate limit (429) → fields (400). Every refusal is the spec's
 * error list in the requested format. service_request_id = the report's 受理编号; token = its channel message id.
 * http://wiki.open311.org/GeoReport_v2/ · https://github.com/mysociety/fixmystreet/wiki/Open311-FMS---Proposed-differences-to-Open311
 */
import middy from '@middy/core';
import { appendClientUpdate, parseClientUpdate } from '#channels/open311/client-update.ts';
import { findClient, type Open311Client } from '#channels/open311/clients.ts';
import { toW3c } from '#channels/open311/datetime.ts';
import { badRequest, errorEntries, open311Error } from '#channels/open311/errors.ts';
import { type CaseFeed, collectUpdates, listRequests } from '#channels/open311/feed.ts';
import { type Open311Form, parseForm, serializeForm } from '#channels/open311/form.ts';
import {
  isToken,
  parsePaging,
  parseRequestsQuery,
  parseWindow,
  type Resource,
  routeOf,
} from '#channels/open311/query.ts';
import type { TokenBuckets } from '#channels/open311/rate-limit.ts';
import {
  type Format,
  type Rendered,
  renderDiscovery,
  renderErrors,
  renderPosted,
  renderRequests,
  renderServiceDefinition,
  renderServices,
  renderTokens,
  renderUpdatePosted,
  renderUpdates,
} from '#channels/open311/render.ts';
import { parseServiceRequest } from '#channels/open311/request.ts';
import { type PublishContext, requestFromCase, requestFromReport } from '#channels/open311/view.ts';
import type { Case } from '#core/case.ts';
import { CityLoopError, isCityLoopError } from '#core/errors.ts';
import { isTrackingNo, shanghaiDay, toShanghaiIso } from '#core/ids.ts';
import type { Accepted } from '#core/intake/accept.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import type { BlobStore, Clock, StoredReport } from '#core/ports.ts';
import { bodyText, type HttpEvent, type HttpResult, header } from '../lib/http.ts';
import { failureFields, log } from '../lib/log.ts';
import type { Open311Settings } from './config.ts';
import { runtimeDeps } from './deps.ts';

export const SPECIFICATION = 'http://wiki.open311.org/GeoReport_v2';
const DAY_MS = 86_400_000;
/** Optimistic-concurrency retries for a client update racing another change of the same case. */
const WRITE_ATTEMPTS = 4;

export interface Open311Deps {
  clock: Clock;
  settings: Open311Settings;
  limiter: TokenBuckets;
  accept(request: IntakeRequest): Promise<Accepted>;
  store: {
    getReportByTrackingNo(trackingNo: string): Promise<StoredReport | undefined>;
    getReportByIdemKey(idemKey: string): Promise<StoredReport | undefined>;
    getCase(caseId: string): Promise<Case | undefined>;
    replaceCase(c: Case, expectedVersion: number): Promise<boolean>;
  };
  feed: CaseFeed;
  blobs: BlobStore;
  departmentName(id: string): string | undefined;
}

interface Call {
  event: HttpEvent;
  deps: Open311Deps;
  format: Format;
  query: Open311Form;
  method: string;
}

function respond(status: number, r: Rendered, extra: Record<string, string> = {}): HttpResult {
  return {
    statusCode: status,
    headers: {
      'content-type': r.contentType,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...extra,
    },
    body: r.body,
  };
}

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: CityLoopError }): T {
  if (!r.ok) throw r.error;
  return r.value;
}

function relativePath(event: HttpEvent): string {
  const proxy = event.pathParameters?.proxy;
  if (proxy !== undefined) return proxy;
  const raw = event.rawPath ?? '';
  const at = raw.indexOf('/open311/v2/');
  return at >= 0 ? raw.slice(at + '/open311/v2/'.length) : raw;
}

function checkJurisdiction(call: Call, form?: Open311Form): void {
  const given = (form?.fields.get('jurisdiction_id') ?? call.query.fields.get('jurisdiction_id'))?.trim();
  if (given && given.toLowerCase() !== call.deps.settings.jurisdictionId.toLowerCase()) {
    throw open311Error(404, [
      { code: 'UNKNOWN_JURISDICTION', description: `jurisdiction_id ${given.slice(0, 80)} is not served here` },
    ]);
  }
}

function rateLimit(call: Call, client: Open311Client | undefined): Record<string, string> {
  const { limiter, settings } = call.deps;
  const key = client ? `client:${client.id}` : `ip:${call.event.requestContext?.http?.sourceIp ?? 'unknown'}`;
  const rate = client?.rate ?? settings.config.rateLimit.anonymous;
  const taken = limiter.take(key, rate);
  if (!taken.ok) {
    throw new CityLoopError('RATE_LIMITED', `too many requests; retry after ${taken.retryAfterSec} s`, 429, {
      problems: [{ code: 'RATE_LIMITED', description: `too many requests; retry after ${taken.retryAfterSec} s` }],
      retryAfterSec: taken.retryAfterSec,
    });
  }
  return { 'x-ratelimit-remaining': String(taken.remaining) };
}

/** For writes: the api_key must name a client (403 otherwise). */
function requireClient(call: Call, form: Open311Form): Open311Client {
  const key = form.fields.get('api_key') ?? call.query.fields.get('api_key');
  const client = findClient(call.deps.settings.clients, key);
  if (!client) {
    throw open311Error(403, [
      {
        code: key ? 'INVALID_API_KEY' : 'MISSING_API_KEY',
        description: key ? 'api_key is not valid' : 'api_key is required',
      },
    ]);
  }
  return client;
}

/** Reads a form-encoded body: 415 for another type, 413 past the limit, 400 for bad encoding. */
function formBody(call: Call): Open311Form {
  const type = (header(call.event, 'content-type') ?? '').toLowerCase();
  const [mime, ...params] = type.split(';').map((s) => s.trim());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  const hasBody = (call.event.body ?? '') !== '';
  if ((hasBody || mime) && mime !== 'application/x-www-form-urlencoded') {
    throw open311Error(415, [
      {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        description: `send application/x-www-form-urlencoded, not ${(mime || '(none)').slice(0, 60)}`,
      },
    ]);
  }
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw open311Error(415, [{ code: 'UNSUPPORTED_CHARSET', description: 'form bodies are UTF-8' }]);
  }
  let text: string;
  try {
    text = bodyText(call.event, call.deps.settings.config.limits.bodyBytes);
  } catch (e) {
    if (isCityLoopError(e)) throw open311Error(e.status, [{ code: e.code, description: e.message }]);
    throw e;
  }
  const parsed = parseForm(text);
  if (!parsed.ok) throw parsed.error;
  return parsed.form;
}

function publishContext(deps: Open311Deps): PublishContext {
  return { catalog: deps.settings.catalog, departmentName: deps.departmentName, publish: deps.settings.config.publish };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

function discovery(call: Call): HttpResult {
  const { settings } = call.deps;
  const host = header(call.event, 'host') ?? call.event.requestContext?.domainName ?? '127.0.0.1';
  const proto = header(call.event, 'x-forwarded-proto') ?? (/^(127\.|localhost|\[::1\])/.test(host) ? 'http' : 'https');
  const url = settings.publicBaseUrl ?? `${proto}://${host}/open311/v2`;
  const changeset = toW3c(settings.config.discovery.changeset) ?? settings.config.discovery.changeset;
  return respond(
    200,
    renderDiscovery(
      {
        changeset,
        contact: settings.config.discovery.contact,
        key_service: settings.config.discovery.keyService,
        endpoints: [
          {
            specification: SPECIFICATION,
            url,
            changeset,
            type: 'production',
            formats: ['text/xml', 'application/json'],
          },
        ],
      },
      call.format,
    ),
    { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' },
  );
}

async function createRequest(call: Call): Promise<HttpResult> {
  const { deps } = call;
  const form = formBody(call);
  checkJurisdiction(call, form);
  const client = requireClient(call, form);
  const limitHeaders = rateLimit(call, client);
  const now = deps.clock.now();
  const input = unwrap(parseServiceRequest(form, { catalog: deps.settings.catalog, clientId: client.id, now }));
  // The same content from the same client within 24 h is the same report (a retry after a timeout).
  const earlier = await deps.store.getReportByIdemKey(`open311#${input.messageIds.yesterday}`);
  let accepted: Accepted;
  if (earlier && now.getTime() - Date.parse(earlier.acceptedAt) < DAY_MS) {
    // Accepting the stored request again is idempotent, and re-queues it if it never reached triage.
    accepted = await deps.accept(earlier.request);
  } else {
    const rawKey = `raw/open311/${shanghaiDay(now)}/${input.messageIds.today}.form`;
    await deps.blobs.put(
      rawKey,
      Buffer.from(serializeForm(form, ['api_key']), 'utf8'),
      'application/x-www-form-urlencoded',
    );
    accepted = await deps.accept(normalizeIntake({ ...input.draft, channelMessageId: input.messageIds.today, rawKey }));
  }
  const { report, created } = accepted;
  const token = report.idemKey.slice('open311#'.length);
  const serviceNotice = [
    deps.settings.config.serviceNotice.replaceAll('{trackingNo}', report.trackingNo),
    deps.settings.catalog.get(input.serviceCode)?.notice,
  ]
    .filter(Boolean)
    .join('');
  log.info('report accepted', { trackingNo: report.trackingNo, channel: 'open311', client: client.id, created });
  return respond(
    200,
    renderPosted(
      [
        {
          service_request_id: report.trackingNo,
          token,
          service_notice: serviceNotice,
          ...(input.accountId ? { account_id: input.accountId } : {}),
        },
      ],
      call.format,
    ),
    limitHeaders,
  );
}

async function lookupReport(deps: Open311Deps, id: string) {
  const report = await deps.store.getReportByTrackingNo(id);
  if (!report) return undefined;
  const c = await deps.store.getCase(report.caseId ?? report.trackingNo);
  return requestFromReport(report, c, publishContext(deps));
}

async function getRequests(call: Call, client: Open311Client | undefined): Promise<HttpResult> {
  const { deps } = call;
  const q = unwrap(parseRequestsQuery(call.query, deps.clock.now(), deps.settings.config.limits));
  const headers = { 'access-control-allow-origin': '*', ...rateLimit(call, client) };
  if (q.ids) {
    const found = await mapLimit(q.ids, 8, (id) => lookupReport(deps, id));
    return respond(
      200,
      renderRequests(
        found.filter((r) => r !== undefined),
        call.format,
      ),
      headers,
    );
  }
  const cases = await listRequests(deps.feed, q);
  const ctx = publishContext(deps);
  return respond(
    200,
    renderRequests(
      cases.map((c) => requestFromCase(c, ctx)),
      call.format,
    ),
    headers,
  );
}

async function getRequest(call: Call, id: string, client: Open311Client | undefined): Promise<HttpResult> {
  const headers = { 'access-control-allow-origin': '*', ...rateLimit(call, client) };
  if (!isTrackingNo(id)) throw badRequest('INVALID_ID', 'service_request_id is a 受理编号 (e.g. 20251128000123)');
  const found = await lookupReport(call.deps, id);
  if (!found) throw open311Error(404, [{ code: 'NOT_FOUND', description: `no service request ${id}` }]);
  return respond(200, renderRequests([found], call.format), headers);
}

async function getToken(call: Call, token: string, client: Open311Client | undefined): Promise<HttpResult> {
  const headers = { 'access-control-allow-origin': '*', ...rateLimit(call, client) };
  const report = isToken(token) ? await call.deps.store.getReportByIdemKey(`open311#${token}`) : undefined;
  if (!report) throw open311Error(404, [{ code: 'NOT_FOUND', description: 'no request with this token' }]);
  return respond(200, renderTokens([{ service_request_id: report.trackingNo, token }], call.format), headers);
}

async function getUpdates(call: Call, client: Open311Client | undefined): Promise<HttpResult> {
  const { deps } = call;
  const { limits, publish } = deps.settings.config;
  const window = unwrap(parseWindow(call.query, deps.clock.now(), limits.windowDays, DAY_MS));
  const paging = unwrap(parsePaging(call.query, { ...limits, pageSizeDefault: limits.pageSizeMax }));
  const headers = { 'access-control-allow-origin': '*', ...rateLimit(call, client) };
  const updates = await collectUpdates(
    deps.feed,
    { ...window, ...paging },
    {
      lookbackDays: limits.updatesLookbackDays,
      scope: publish.updatesScope,
    },
  );
  return respond(200, renderUpdates(updates, call.format), headers);
}

async function postUpdate(call: Call): Promise<HttpResult> {
  const { deps } = call;
  const form = formBody(call);
  checkJurisdiction(call, form);
  const client = requireClient(call, form);
  const limitHeaders = rateLimit(call, client);
  const update = unwrap(parseClientUpdate(form, client.id));
  const report = await deps.store.getReportByTrackingNo(update.serviceRequestId);
  if (!report)
    throw open311Error(404, [{ code: 'NOT_FOUND', description: `no service request ${update.serviceRequestId}` }]);
  const caseId = report.caseId ?? report.trackingNo;
  await deps.blobs.put(
    `raw/open311/${shanghaiDay(deps.clock.now())}/update-${update.key.replace(/[^\w.-]/g, '_')}.form`,
    Buffer.from(serializeForm(form, ['api_key']), 'utf8'),
    'application/x-www-form-urlencoded',
  );
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const c = await deps.store.getCase(caseId);
    if (!c) {
      throw new CityLoopError('CASE_NOT_READY', 'the request is still being triaged; retry in a minute', 409, {
        problems: [{ code: 'CASE_NOT_READY', description: 'the request is still being triaged; retry in a minute' }],
      });
    }
    const appended = appendClientUpdate(c, update, client.id, toShanghaiIso(deps.clock.now()));
    if (!appended.ok) throw appended.error;
    if (appended.created && !(await deps.store.replaceCase(appended.next, c.version))) continue;
    log.info('open311 update recorded', { caseId, client: client.id, created: appended.created });
    return respond(200, renderUpdatePosted(`${update.serviceRequestId}-${appended.index}`, call.format), limitHeaders);
  }
  throw new CityLoopError('CONFLICT', 'the case is changing; retry', 409, {
    problems: [{ code: 'CONFLICT', description: 'the case changed while the update was written; retry' }],
  });
}

async function dispatch(call: Call, resource: Resource): Promise<HttpResult> {
  const { method, deps } = call;
  const read = method === 'GET' || method === 'HEAD';
  if (read) {
    checkJurisdiction(call);
    // GETs are public; a valid api_key only puts the caller in its own rate bucket.
    const client = findClient(deps.settings.clients, call.query.fields.get('api_key'));
    switch (resource.kind) {
      case 'discovery':
        rateLimit(call, client);
        return discovery(call);
      case 'services':
        return respond(200, renderServices(deps.settings.catalog.list, call.format), {
          'cache-control': 'public, max-age=300',
          'access-control-allow-origin': '*',
          ...rateLimit(call, client),
        });
      case 'service': {
        const entry = deps.settings.catalog.get(resource.code);
        if (!entry)
          throw open311Error(404, [
            { code: 'UNKNOWN_SERVICE', description: `no service ${resource.code.slice(0, 64)}` },
          ]);
        return respond(200, renderServiceDefinition(entry.service.service_code, entry.attributes, call.format), {
          'cache-control': 'public, max-age=300',
          'access-control-allow-origin': '*',
          ...rateLimit(call, client),
        });
      }
      case 'requests':
        return getRequests(call, client);
      case 'request':
        return getRequest(call, resource.id, client);
      case 'token':
        return getToken(call, resource.token, client);
      case 'updates':
        return getUpdates(call, client);
    }
  }
  if (method === 'POST' && resource.kind === 'requests') return createRequest(call);
  if (method === 'POST' && resource.kind === 'updates') return postUpdate(call);
  throw open311Error(405, [
    { code: 'METHOD_NOT_ALLOWED', description: `method ${method.slice(0, 10)} not allowed here` },
  ]);
}

function errorResponse(e: CityLoopError, format: Format): HttpResult {
  const retry = (e.details as { retryAfterSec?: number } | undefined)?.retryAfterSec;
  return respond(e.status, renderErrors(errorEntries(e), format), retry ? { 'retry-after': String(retry) } : {});
}

/** The whole API for one event; never throws (every failure is an Open311 error list). */
export async function handleOpen311(
  event: HttpEvent,
  deps: Open311Deps | (() => Promise<Open311Deps>),
): Promise<HttpResult> {
  const routed = routeOf(relativePath(event));
  const format = routed.format;
  try {
    if (!routed.ok) throw routed.error;
    const query = parseForm(event.rawQueryString ?? '');
    if (!query.ok) throw query.error;
    const resolved = typeof deps === 'function' ? await deps() : deps;
    const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
    return await dispatch({ event, deps: resolved, format, query: query.form, method }, routed.resource);
  } catch (e) {
    if (isCityLoopError(e) && e.status < 500) return errorResponse(e, format);
    log.error('open311 failed', { path: event.rawPath, ...failureFields(e) });
    return respond(
      500,
      renderErrors([{ code: 500, description: 'INTERNAL: 系统繁忙，请稍后再试 internal error' }], format),
    );
  }
}

export const handler = middy<HttpEvent, HttpResult>().handler(async function open311Handler(event) {
  return handleOpen311(event, runtimeDeps);
});
