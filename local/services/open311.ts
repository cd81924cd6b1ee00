/**
 * Open311 on the local stack: no server of its own (the API runs behind the stack's HTTP server), but the banner
 * line of `npm start` and a fresh read of the settings, so `OPEN311_API_KEY=<key> npm start` registers that key
 * (client id `env`) next to the demo key of config/open311.json (`cityloop-open311-demo-key`, local only).
 */
import { resetOpen311Settings } from '#functions/open311/config.ts';
import type { LocalService, LocalServiceContext } from '../stack.ts';

export async function start(ctx: LocalServiceContext): Promise<LocalService> {
  resetOpen311Settings();
  const keys = process.env.OPEN311_API_KEY
    ? 'OPEN311_API_KEY (client "env") + demo key'
    : 'demo key cityloop-open311-demo-key';
  ctx.log(`[open311] ${ctx.stack.info.url}/open311/v2/discovery.xml`);
  return {
    name: 'open311',
    describe: `${ctx.stack.info.url}/open311/v2/discovery.xml (api_key: ${keys})`,
    stop: async () => {
      resetOpen311Settings();
    },
  };
}
