/**
 * `npm start`: the whole system on this machine, on loopback only.
 * PORT (default 8787), CITYLOOP_DATA_DIR (default ./.cityloop), SMTP_PORT (default 2525).
 */
import { startLocalStack } from './stack.ts';

const port = Number(process.env.PORT ?? 8787);
const smtpPort = Number(process.env.SMTP_PORT ?? 2525);
const stack = await startLocalStack({
  port,
  smtpPort,
  ...(process.env.CITYLOOP_DATA_DIR ? { dataDir: process.env.CITYLOOP_DATA_DIR } : {}),
});
const i = stack.info;
const lines = [
  '',
  'CityLoop 一网统管 · 本地运行 (local stack)',
  '',
  `  市民诉求 citizen page      ${i.url}/`,
  `  话务台 agent console       ${i.url}/agent/`,
  `  部门工作台 department      ${i.url}/dept/`,
  `  督办看板 supervisor        ${i.url}/supervisor/`,
  `  (staff sign in with the local API keys in config/local-keys.json, e.g. local-agent-001)`,
  `  受理接口 intake API        POST ${i.url}/api/requests`,
  `  查询进度 tracking          GET  ${i.url}/api/requests/{受理编号}`,
  ...Object.entries(i.services).map(([name, d]) => `  ${name.padEnd(24)} ${d}`),
  '',
  `  DynamoDB (dynalite)        ${i.endpoints.dynamodb}`,
  `  SQS (fauxqs)               ${i.endpoints.sqs}`,
  `  EventBridge (embedded)     ${i.endpoints.eventbridge}`,
  `  数据目录 data              ${i.dataDir}`,
  '',
  `  部门取件 department pull:  npx cityloop dept pull --department <id>`,
  '',
];
process.stdout.write(`${lines.join('\n')}\n`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  process.stdout.write('stopping…\n');
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
