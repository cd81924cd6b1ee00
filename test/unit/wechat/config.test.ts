import { describe, expect, it } from 'vitest';
import { SecretFormatError } from '#adapters/secrets/secrets.ts';
import { CityLoopError } from '#core/errors.ts';
import { configFromValues, loadWechatConfig } from '#functions/wechat/config.ts';

/** A fetch double for the Parameters and Secrets extension: records the call, answers from a script. */
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

  it('should overlay the secret read from Secrets Manager', async () => {
    // Prepare
    const secret = { WECHAT_TOKEN: 'from-secret', WECHAT_MP_APP_SECRET: 'app-secret', OTHER: 'ignored' };
    const asked: string[] = [];
    const read = async (id: string) => {
      asked.push(id);
      return secret;
    };
    const env = { WECHAT_TOKEN: 'from-env', WECHAT_APP_ID: 'wxA', WECHAT_SECRET_ID: 'cityloop/wechat' };

    // Act
    const c = await loadWechatConfig(env, read);

    // Assess
    expect(c.token).toBe('from-secret');
    expect(c.miniProgram.appSecret).toBe('app-secret');
    expect(asked).toEqual(['cityloop/wechat']);
  });

  it.each([
    ['an unreadable secret', new Error('AccessDeniedException')],
    ['a secret that is not a JSON object', new SecretFormatError('secret x must be a JSON object')],
  ])('should fail with WECHAT_NOT_CONFIGURED on %s', async (_what, error) => {
    // Act
    const e = await rejection(
      loadWechatConfig({ WECHAT_SECRET_ID: 'x' }, async () => {
        throw error;
      }),
    );

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
