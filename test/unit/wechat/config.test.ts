import { describe, expect, it } from 'vitest';
import { CityLoopError } from '#core/errors.ts';
import { configFromValues, loadWechatConfig } from '#functions/wechat/config.ts';

/** A fetch double for the Parameters and Secrets extension: records the call, answers from a script. */
function extension(status: number, body: unknown) {
  const calls: { url: string; token: string | null }[] = [];
  const fn = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(input), token: new Headers(init?.headers).get('x-aws-parameters-secrets-token') });
    return new Response(JSON.stringify(body), { status });
  }) as typeof fetch;
  return { fn, calls };
}

async function rejection(p: Promise<unknown>): Promise<CityLoopError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CityLoopError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('Function: loadWechatConfig', () => {
  it('should read the settings from env with defaults', async () => {
    // Act
    const c = await loadWechatConfig({ WECHAT_TOKEN: 't', WECHAT_APP_ID: 'wxA', WECHAT_MP_APP_SECRET: 's' });

    // Assess
    expect(c).toEqual({
      token: 't',
      appId: 'wxA',
      allowPlain: false,
      miniProgram: { appId: 'wxA', appSecret: 's', apiBase: 'https://api.weixin.qq.com', sessionTtlSeconds: 7200 },
    });
  });

  it('should overlay the secret read through the Lambda extension on loopback', async () => {
    // Prepare
    const secret = { WECHAT_TOKEN: 'from-secret', WECHAT_MP_APP_SECRET: 'app-secret', OTHER: 'ignored' };
    const ext = extension(200, { SecretString: JSON.stringify(secret) });
    const env = {
      WECHAT_TOKEN: 'from-env',
      WECHAT_APP_ID: 'wxA',
      WECHAT_SECRET_ID: 'cityloop/wechat',
      AWS_SESSION_TOKEN: 'tok',
    };

    // Act
    const c = await loadWechatConfig(env, ext.fn);

    // Assess
    expect(c.token).toBe('from-secret');
    expect(c.miniProgram.appSecret).toBe('app-secret');
    expect(ext.calls).toEqual([
      { url: 'http://127.0.0.1:2773/secretsmanager/get?secretId=cityloop%2Fwechat', token: 'tok' },
    ]);
  });

  it.each([
    ['an HTTP error', extension(400, { message: 'no such secret' })],
    ['a non-JSON secret', extension(200, { SecretString: 'plain words' })],
    ['a JSON array secret', extension(200, { SecretString: '[1]' })],
  ])('should fail with WECHAT_NOT_CONFIGURED on %s', async (_what, ext) => {
    // Act
    const e = await rejection(loadWechatConfig({ WECHAT_SECRET_ID: 'x' }, ext.fn));

    // Assess
    expect(e.code).toBe('WECHAT_NOT_CONFIGURED');
    expect(e.status).toBe(500);
  });

  it('should refuse a session lifetime out of bounds', () => {
    // Assess
    expect(() => configFromValues({ WECHAT_SESSION_TTL_SECONDS: '5' })).toThrow(CityLoopError);
    expect(configFromValues({ WECHAT_ALLOW_PLAIN: 'true', WECHAT_MP_APP_ID: 'wxM' }).miniProgram.appId).toBe('wxM');
  });
});
