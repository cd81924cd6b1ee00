import { describe, expect, it } from 'vitest';
import { createHttpCode2Session } from '#channels/wechat/code2session.ts';
import { CityLoopError } from '#core/errors.ts';

type Answer = { status?: number; body: string } | Error;

/** A fetch double that records the URL and answers from a script: unit tests stay off the network. */
function fakeFetch(answer: Answer) {
  const calls: URL[] = [];
  const fn = (async (input: string | URL | Request) => {
    calls.push(new URL(input instanceof Request ? input.url : input));
    if (answer instanceof Error) throw answer;
    return new Response(answer.body, { status: answer.status ?? 200, headers: { 'content-type': 'text/plain' } });
  }) as typeof fetch;
  return { fn, calls };
}

function port(answer: Answer) {
  const f = fakeFetch(answer);
  const p = createHttpCode2Session({ baseUrl: 'http://127.0.0.1:9', appId: 'wxAPP', secret: 'SECRET', fetch: f.fn });
  return { p, calls: f.calls };
}

async function rejection(promise: Promise<unknown>): Promise<CityLoopError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof CityLoopError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('Class: HttpCode2Session', () => {
  it('should call jscode2session with appid, secret, code and grant type and return the openid', async () => {
    // Prepare
    const { p, calls } = port({ body: '{"openid":"oUSER","session_key":"sk","unionid":"uUNION"}' });

    // Act
    const r = await p.exchange('081abcDEF');

    // Assess
    expect(r).toEqual({ openid: 'oUSER', unionid: 'uUNION' });
    expect(calls).toHaveLength(1);
    const url = calls[0];
    expect(url?.pathname).toBe('/sns/jscode2session');
    expect(Object.fromEntries(url?.searchParams ?? [])).toEqual({
      appid: 'wxAPP',
      secret: 'SECRET',
      js_code: '081abcDEF',
      grant_type: 'authorization_code',
    });
  });

  it('should not hand the session_key on', async () => {
    // Prepare
    const { p } = port({ body: '{"openid":"oUSER","session_key":"sk"}' });

    // Act
    const r = await p.exchange('code1');

    // Assess
    expect(r).toEqual({ openid: 'oUSER' });
  });

  it.each([
    [40029, 'INVALID_LOGIN_CODE', 401],
    [40163, 'INVALID_LOGIN_CODE', 401],
    [40226, 'LOGIN_BLOCKED', 403],
    [45011, 'RATE_LIMITED', 429],
    [-1, 'WECHAT_BUSY', 503],
    [40125, 'WECHAT_UPSTREAM_ERROR', 502],
  ])('should map errcode %i to %s', async (errcode, code, status) => {
    // Prepare
    const { p } = port({ body: JSON.stringify({ errcode, errmsg: 'from wechat' }) });

    // Act
    const e = await rejection(p.exchange('code1'));

    // Assess
    expect(e.code).toBe(code);
    expect(e.status).toBe(status);
  });

  it('should accept errcode 0 with an openid as success', async () => {
    // Prepare
    const { p } = port({ body: '{"errcode":0,"errmsg":"ok","openid":"oZ"}' });

    // Act
    const r = await p.exchange('code1');

    // Assess
    expect(r).toEqual({ openid: 'oZ' });
  });

  it.each([
    ['an HTTP 500', { status: 500, body: 'oops' }, 'WECHAT_UPSTREAM_ERROR'],
    ['a non-JSON body', { body: '<html>' }, 'WECHAT_UPSTREAM_ERROR'],
    ['JSON without openid', { body: '{}' }, 'WECHAT_UPSTREAM_ERROR'],
    ['a wrongly typed errcode', { body: '{"errcode":"40029"}' }, 'WECHAT_UPSTREAM_ERROR'],
    ['a huge body', { body: `{"openid":"${'o'.repeat(70_000)}"}` }, 'WECHAT_UPSTREAM_ERROR'],
    ['a network failure', new Error('ECONNREFUSED secret=SECRET'), 'WECHAT_UNAVAILABLE'],
  ])('should turn %s into %s without leaking the secret', async (_what, answer, code) => {
    // Prepare
    const { p } = port(answer);

    // Act
    const e = await rejection(p.exchange('code1'));

    // Assess
    expect(e.code).toBe(code);
    expect(e.status).toBeGreaterThanOrEqual(500);
    expect(JSON.stringify(e.toJSON())).not.toContain('SECRET');
  });

  it('should refuse a malformed code without calling WeChat', async () => {
    // Prepare
    const { p, calls } = port({ body: '{"openid":"o"}' });

    // Act
    const e = await rejection(p.exchange('a&secret=x'));

    // Assess
    expect(e.code).toBe('INVALID_LOGIN_CODE');
    expect(e.status).toBe(400);
    expect(calls).toHaveLength(0);
  });

  it('should refuse unusable configuration', () => {
    // Assess
    expect(() => createHttpCode2Session({ baseUrl: 'ftp://x', appId: 'a', secret: 's' })).toThrow(CityLoopError);
    expect(() => createHttpCode2Session({ baseUrl: 'https://x', appId: '', secret: 's' })).toThrow(CityLoopError);
  });
});
