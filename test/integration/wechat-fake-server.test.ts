import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpCode2Session } from '#channels/wechat/code2session.ts';
import { CityLoopError } from '#core/errors.ts';
import { DEFAULT_CODES, type FakeWechat, startFakeWechat } from '#local/fake-wechat/server.ts';

async function rejection(p: Promise<unknown>): Promise<CityLoopError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CityLoopError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('Local service: fake WeChat code2Session', () => {
  let fake: FakeWechat;
  let once: FakeWechat;

  beforeAll(async () => {
    fake = await startFakeWechat({ appId: 'wxFAKE', appSecret: 'SECRET' });
    once = await startFakeWechat({ appId: 'wxFAKE', appSecret: 'SECRET', singleUse: true, codes: { c1: 'oOnce' } });
  });
  afterAll(async () => {
    await fake?.stop();
    await once?.stop();
  });

  it('should listen on loopback and exchange a table code for its openid over real HTTP', async () => {
    // Prepare
    const port = createHttpCode2Session({ baseUrl: fake.url, appId: 'wxFAKE', secret: 'SECRET' });

    // Act
    const r = await port.exchange('test-code-002');

    // Assess
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(r).toEqual({ openid: DEFAULT_CODES['test-code-002'] });
    expect(fake.calls).toBe(1);
  });

  it.each([
    ['an unknown code', { appId: 'wxFAKE', secret: 'SECRET' }, 'nope', 'INVALID_LOGIN_CODE'],
    ['a wrong secret', { appId: 'wxFAKE', secret: 'WRONG' }, 'test-code-001', 'WECHAT_UPSTREAM_ERROR'],
    ['a wrong appid', { appId: 'wxOTHER', secret: 'SECRET' }, 'test-code-001', 'WECHAT_UPSTREAM_ERROR'],
    ['a high-risk user', { appId: 'wxFAKE', secret: 'SECRET' }, 'risky-code', 'LOGIN_BLOCKED'],
    ['the minute quota', { appId: 'wxFAKE', secret: 'SECRET' }, 'limited-code', 'RATE_LIMITED'],
  ])('should answer %s with WeChat’s errcode', async (_what, creds, code, expected) => {
    // Prepare
    const port = createHttpCode2Session({ baseUrl: fake.url, ...creds });

    // Act
    const e = await rejection(port.exchange(code));

    // Assess
    expect(e.code).toBe(expected);
  });

  it('should refuse a code the second time when single-use, as WeChat does', async () => {
    // Prepare
    const port = createHttpCode2Session({ baseUrl: once.url, appId: 'wxFAKE', secret: 'SECRET' });

    // Act
    const first = await port.exchange('c1');
    const second = await rejection(port.exchange('c1'));

    // Assess
    expect(first.openid).toBe('oOnce');
    expect(second.code).toBe('INVALID_LOGIN_CODE');
  });

  it('should answer other paths with 404 and an errcode', async () => {
    // Act
    const res = await fetch(`${fake.url}/cgi-bin/token`);

    // Assess
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errcode: 40066, errmsg: 'invalid url' });
  });

  it('should fail cleanly once the server is gone', async () => {
    // Prepare
    const gone = await startFakeWechat({ appId: 'a', appSecret: 'b' });
    await gone.stop();
    const port = createHttpCode2Session({ baseUrl: gone.url, appId: 'a', secret: 'b', timeoutMs: 2000 });

    // Act
    const e = await rejection(port.exchange('test-code-001'));

    // Assess
    expect(e.code).toBe('WECHAT_UNAVAILABLE');
  });
});
