/**
 * The fake WeChat server as a local-stack service (`start(ctx)`, see local/stack.ts), plus local defaults for the
 * WeChat settings that are not set: the push uses Tencent's published sample keys (the shared conformance vector:
 * token `spamtest`, app id `wx2c2769f8efd9abc2`), the mini-program a local app id/secret that only this fake
 * accepts, and code2Session points here. Env that is already set wins (e.g. a real test account).
 * FAKE_WECHAT_PORT picks the port (default: any free port).
 */
import { randomBytes } from 'node:crypto';
import { resetWechatConfig } from '#functions/wechat/config.ts';
import { resetMiniProgramHandler } from '#functions/wechat/miniprogram.ts';
import { resetPushHandler } from '#functions/wechat/push.ts';
import type { LocalService, LocalServiceContext } from '../stack.ts';
import { DEFAULT_CODES, startFakeWechat } from './server.ts';

export const LOCAL_WECHAT_DEFAULTS = {
  WECHAT_TOKEN: 'spamtest',
  WECHAT_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  WECHAT_APP_ID: 'wx2c2769f8efd9abc2',
  WECHAT_MP_APP_ID: 'wxlocalminiprogram01',
  WECHAT_MP_APP_SECRET: 'local-mini-program-secret',
} as const;

export async function start(ctx: LocalServiceContext): Promise<LocalService> {
  const env = process.env;
  // Only what is unset is filled in, and taken back on stop: a second stack in the same process starts clean.
  const filled: string[] = [];
  const fill = (key: string, value: string) => {
    if (env[key] !== undefined && env[key] !== '') return;
    env[key] = value;
    filled.push(key);
  };
  for (const [k, v] of Object.entries(LOCAL_WECHAT_DEFAULTS)) fill(k, v);
  // A fresh session secret per start: sessions end with the local stack, like a deploy rotating the secret.
  fill('WECHAT_SESSION_SECRET', randomBytes(32).toString('base64url'));
  const fake = await startFakeWechat({
    port: Number(env.FAKE_WECHAT_PORT ?? 0),
    appId: env.WECHAT_MP_APP_ID ?? LOCAL_WECHAT_DEFAULTS.WECHAT_MP_APP_ID,
    appSecret: env.WECHAT_MP_APP_SECRET ?? LOCAL_WECHAT_DEFAULTS.WECHAT_MP_APP_SECRET,
  });
  fill('WECHAT_API_BASE', fake.url);
  resetHandlers();
  ctx.log(`[fake-wechat] code2Session on ${fake.url}`);
  return {
    name: 'fake-wechat',
    describe: `${fake.url} (code2Session; codes ${Object.keys(DEFAULT_CODES).join(', ')})`,
    stop: async () => {
      await fake.stop();
      for (const k of filled) delete env[k];
      resetHandlers();
    },
  };
}

/** The handlers read their configuration once per container; this process's "container" just changed. */
function resetHandlers(): void {
  resetWechatConfig();
  resetPushHandler();
  resetMiniProgramHandler();
}
