import { describe, expect, it } from 'vitest';
import type { CityLoopError } from '#core/errors.ts';
import type { HttpEvent } from '#functions/lib/http.ts';
import { parseBody, rawBody } from '#functions/lib/http.ts';

const ev = (body: string | undefined, type?: string, base64 = false): HttpEvent =>
  ({ headers: type ? { 'Content-Type': type } : {}, body, isBase64Encoded: base64 }) as unknown as HttpEvent;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as CityLoopError).code;
  }
  return undefined;
}

describe('Module: functions/lib/http', () => {
  it('should parse JSON objects and refuse everything else with a code', () => {
    expect(parseBody(ev('{"a":1}', 'application/json; charset=utf-8'))).toEqual({ a: 1 });
    expect(code(() => parseBody(ev('{', 'application/json')))).toBe('MALFORMED_JSON');
    expect(code(() => parseBody(ev('"x"', 'application/json')))).toBe('MALFORMED_JSON');
    expect(code(() => parseBody(ev('x', 'text/plain')))).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(code(() => parseBody(ev('x', undefined)))).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('should nest dotted form fields and ignore prototype keys', () => {
    const out = parseBody(
      ev(
        'title=%E8%B7%AF&citizen.phone=138&__proto__.x=1&constructor.prototype.y=2',
        'application/x-www-form-urlencoded',
      ),
    );
    expect(out).toEqual({ title: '路', citizen: { phone: '138' } });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('should refuse bodies over the limit, base64 or not, and invalid UTF-8', () => {
    expect(code(() => rawBody(ev('x'.repeat(101), 'text/plain'), 100))).toBe('BODY_TOO_LARGE');
    expect(code(() => rawBody(ev(Buffer.alloc(200).toString('base64'), 'x', true), 100))).toBe('BODY_TOO_LARGE');
    expect(
      code(() => parseBody(ev(Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'), 'application/json', true))),
    ).toBe('INVALID_ENCODING');
  });
});
