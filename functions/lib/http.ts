/**
 * HTTP plumbing shared by every API Gateway (HTTP API, payload v2) handler: body decoding with a size limit,
 * JSON/form parsing with coded errors, and one error middleware so nothing escapes as a 500 with a stack trace.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { CityLoopError, isCityLoopError } from '#core/errors.ts';
import { failureFields, log } from './log.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export const DEFAULT_BODY_LIMIT = 64 * 1024;

export function header(event: HttpEvent, name: string): string | undefined {
  const h = event.headers ?? {};
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The raw body bytes, refused past `limit` (413 BODY_TOO_LARGE). */
export function rawBody(event: HttpEvent, limit = DEFAULT_BODY_LIMIT): Buffer {
  const body = event.body ?? '';
  // Cheap pre-check before decoding: base64 is 4/3 of the bytes.
  if (body.length > (event.isBase64Encoded ? Math.ceil((limit * 4) / 3) + 4 : limit * 4)) {
    throw new CityLoopError('BODY_TOO_LARGE', `请求体超过 ${limit} 字节 body larger than ${limit} bytes`, 413);
  }
  const buf = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (buf.length > limit) {
    throw new CityLoopError('BODY_TOO_LARGE', `请求体超过 ${limit} 字节 body larger than ${limit} bytes`, 413);
  }
  return buf;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function bodyText(event: HttpEvent, limit = DEFAULT_BODY_LIMIT): string {
  try {
    return utf8.decode(rawBody(event, limit));
  } catch (e) {
    if (isCityLoopError(e)) throw e;
    throw new CityLoopError('INVALID_ENCODING', '请求体不是有效的 UTF-8 body is not valid UTF-8', 400);
  }
}

/**
 * Parses a JSON or form-encoded body into a plain object. Form fields with dots (`citizen.phone`) become nested
 * objects, so the page can post the same shape as the JSON API.
 */
export function parseBody(event: HttpEvent, limit = DEFAULT_BODY_LIMIT): Record<string, unknown> {
  const type = (header(event, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = bodyText(event, limit);
  if (type === 'application/json' || type.endsWith('+json')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new CityLoopError('MALFORMED_JSON', '请求体不是有效的 JSON body is not valid JSON', 400);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new CityLoopError('MALFORMED_JSON', '请求体必须是 JSON 对象 body must be a JSON object', 400);
    }
    // A 64 KB body can nest thousands of levels: refuse before any handler recurses into it (stack overflow → 500).
    if (tooDeep(value, MAX_JSON_DEPTH)) {
      throw new CityLoopError('MALFORMED_JSON', `请求体嵌套过深 body nested deeper than ${MAX_JSON_DEPTH} levels`, 400);
    }
    return value as Record<string, unknown>;
  }
  if (type === 'application/x-www-form-urlencoded') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(text)) setPath(out, k, v);
    return out;
  }
  throw new CityLoopError(
    'UNSUPPORTED_MEDIA_TYPE',
    `不支持的内容类型 unsupported content type: ${type || '(none)'}; use application/json or application/x-www-form-urlencoded`,
    415,
  );
}

export const MAX_JSON_DEPTH = 32;

/** Whether `value` nests deeper than `max` levels (iterative: no recursion on hostile input). */
export function tooDeep(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const x of Object.values(v)) if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
  }
  return false;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

function setPath(target: Record<string, unknown>, path: string, value: string): void {
  const parts = path.split('.').slice(0, 4);
  if (parts.some((p) => FORBIDDEN_KEYS.has(p) || p === '')) return;
  let cur = target;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== 'object' || next === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = value;
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResult(e: CityLoopError): HttpResult {
  return json(e.status, { error: e.toJSON() });
}

/**
 * Turns CityLoopErrors into their 4xx answer and anything else into a 500 without internals.
 * Named so stack traces read well.
 */
export function httpErrors(): middy.MiddlewareObj<HttpEvent, APIGatewayProxyResultV2> {
  return {
    onError: async function httpErrorsOnError(request) {
      const e = request.error;
      if (isCityLoopError(e)) {
        request.response = errorResult(e);
        return;
      }
      log.error('unhandled error', { path: request.event?.rawPath, ...failureFields(e) });
      request.response = json(500, { error: { code: 'INTERNAL', message: '系统繁忙，请稍后再试 internal error' } });
    },
  };
}
