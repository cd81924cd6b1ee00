/**
 * Paths and query parameters of the Open311 endpoints, checked up front so the handler only ever sees valid values.
 * Resources are relative to `/open311/v2/`, each with its format extension: `services.xml`, `requests/{id}.json` ...
 */

import type { CityLoopError } from '#core/errors.ts';
import { isTrackingNo } from '#core/ids.ts';
import { DAY_MS, parseW3cDateTime } from './datetime.ts';
import { badRequest, open311Error } from './errors.ts';
import type { Open311Form } from './form.ts';
import { FORMATS, type Format } from './render.ts';
import { TOKEN_PATTERN } from './request.ts';
import type { OpenClosed } from './view.ts';

export type Resource =
  | { kind: 'discovery' }
  | { kind: 'services' }
  | { kind: 'service'; code: string }
  | { kind: 'requests' }
  | { kind: 'request'; id: string }
  | { kind: 'token'; token: string }
  | { kind: 'updates' };

export type Routed =
  | { ok: true; resource: Resource; format: Format }
  | { ok: false; format: Format; error: CityLoopError };

const notFound = (what: string): CityLoopError =>
  open311Error(404, [{ code: 'NOT_FOUND', description: `no Open311 resource ${what.slice(0, 80)}` }]);

/** `services/SZ-01.json` → `{ kind: 'service', code: 'SZ-01' }`, format json. */
export function routeOf(relativePath: string): Routed {
  const path = relativePath.replace(/^\/+/, '');
  const dot = path.lastIndexOf('.');
  const slash = path.lastIndexOf('/');
  const ext = dot > slash ? path.slice(dot + 1).toLowerCase() : '';
  const format = (FORMATS as readonly string[]).includes(ext) ? (ext as Format) : undefined;
  if (!format) {
    return {
      ok: false,
      format: 'xml',
      error:
        dot > slash
          ? badRequest('UNSUPPORTED_FORMAT', `format .${ext.slice(0, 10)} is not offered; use .xml or .json`)
          : notFound(path),
    };
  }
  const parts = path.slice(0, dot).split('/');
  const [first, second, ...rest] = parts;
  if (rest.length > 0) return { ok: false, format, error: notFound(path) };
  if (second === undefined) {
    const simple: Record<string, Resource> = {
      discovery: { kind: 'discovery' },
      services: { kind: 'services' },
      requests: { kind: 'requests' },
      servicerequestupdates: { kind: 'updates' },
    };
    const r = first !== undefined && Object.hasOwn(simple, first) ? simple[first] : undefined;
    return r ? { ok: true, resource: r, format } : { ok: false, format, error: notFound(path) };
  }
  if (second === '') return { ok: false, format, error: notFound(path) };
  if (first === 'services') return { ok: true, resource: { kind: 'service', code: second }, format };
  if (first === 'requests') return { ok: true, resource: { kind: 'request', id: second }, format };
  if (first === 'tokens') return { ok: true, resource: { kind: 'token', token: second }, format };
  return { ok: false, format, error: notFound(path) };
}

export interface QueryLimits {
  windowDays: number;
  pageSizeDefault: number;
  pageSizeMax: number;
  maxIds: number;
}

export interface RequestsQuery {
  /** service_request_id list: when given, every other parameter is ignored (the spec's rule). */
  ids?: string[];
  serviceCodes?: Set<string>;
  statuses?: Set<OpenClosed>;
  fromMs: number;
  toMs: number;
  page: number;
  pageSize: number;
}

export type QueryResult<T> = { ok: true; value: T } | { ok: false; error: CityLoopError };

function list(form: Open311Form, name: string): string[] | undefined {
  const v = form.fields.get(name);
  if (v === undefined) return undefined;
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.length ? items : undefined;
}

/** start_date / end_date with the spec's defaults and the window limit. */
export function parseWindow(
  form: Open311Form,
  now: Date,
  maxDays: number,
  defaultMs: number,
): QueryResult<{ fromMs: number; toMs: number }> {
  const startRaw = form.fields.get('start_date')?.trim() || undefined;
  const endRaw = form.fields.get('end_date')?.trim() || undefined;
  const start = startRaw === undefined ? undefined : parseW3cDateTime(startRaw);
  const end = endRaw === undefined ? undefined : parseW3cDateTime(endRaw);
  const problems = [];
  if (startRaw !== undefined && !start)
    problems.push({ code: 'INVALID_DATE', description: 'start_date is not a W3C date-time' });
  if (endRaw !== undefined && !end)
    problems.push({ code: 'INVALID_DATE', description: 'end_date is not a W3C date-time' });
  if (problems.length) return { ok: false, error: open311Error(400, problems) };
  // A bare end date means that whole day.
  const endMs = end ? (end.dateOnly ? end.ms + DAY_MS - 1 : end.ms) : undefined;
  const toMs = endMs ?? (start ? Math.min(start.ms + defaultMs, now.getTime()) : now.getTime());
  const fromMs = start?.ms ?? toMs - defaultMs;
  if (fromMs > toMs) return { ok: false, error: badRequest('INVALID_DATE_RANGE', 'start_date is after end_date') };
  if (toMs - fromMs > maxDays * DAY_MS) {
    return {
      ok: false,
      error: badRequest('DATE_RANGE_TOO_LONG', `start_date to end_date spans more than ${maxDays} days`),
    };
  }
  return { ok: true, value: { fromMs, toMs } };
}

function positiveInt(form: Open311Form, name: string, fallback: number, max: number): number | undefined {
  const raw = form.fields.get(name)?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,7}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= max ? n : undefined;
}

export function parsePaging(form: Open311Form, limits: QueryLimits): QueryResult<{ page: number; pageSize: number }> {
  const page = positiveInt(form, 'page', 1, 1_000_000);
  const pageSize = positiveInt(form, 'page_size', limits.pageSizeDefault, limits.pageSizeMax);
  if (page === undefined) return { ok: false, error: badRequest('INVALID_PAGE', 'page must be a positive integer') };
  if (pageSize === undefined) {
    return {
      ok: false,
      error: badRequest('INVALID_PAGE_SIZE', `page_size must be an integer from 1 to ${limits.pageSizeMax}`),
    };
  }
  return { ok: true, value: { page, pageSize } };
}

export function parseRequestsQuery(form: Open311Form, now: Date, limits: QueryLimits): QueryResult<RequestsQuery> {
  const paging = parsePaging(form, limits);
  if (!paging.ok) return paging;
  const ids = list(form, 'service_request_id');
  if (ids) {
    if (ids.length > limits.maxIds) {
      return { ok: false, error: badRequest('TOO_MANY_IDS', `at most ${limits.maxIds} service_request_id values`) };
    }
    const bad = ids.find((id) => !isTrackingNo(id));
    if (bad !== undefined) {
      return { ok: false, error: badRequest('INVALID_ID', `service_request_id ${bad.slice(0, 40)} is not a 受理编号`) };
    }
    return { ok: true, value: { ids: [...new Set(ids)], fromMs: 0, toMs: now.getTime(), ...paging.value } };
  }
  const window = parseWindow(form, now, limits.windowDays, limits.windowDays * DAY_MS);
  if (!window.ok) return window;
  const statuses = list(form, 'status')?.map((s) => s.toLowerCase());
  if (statuses?.some((s) => s !== 'open' && s !== 'closed')) {
    return { ok: false, error: badRequest('INVALID_STATUS', 'status is open, closed or both (comma-separated)') };
  }
  const codes = list(form, 'service_code');
  return {
    ok: true,
    value: {
      ...window.value,
      ...paging.value,
      ...(codes ? { serviceCodes: new Set(codes) } : {}),
      ...(statuses ? { statuses: new Set(statuses as OpenClosed[]) } : {}),
    },
  };
}

export function isToken(s: string): boolean {
  return TOKEN_PATTERN.test(s);
}
