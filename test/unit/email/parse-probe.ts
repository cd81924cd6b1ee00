/**
 * Run as a Lambda bundle by `bundled-parse.test.ts`: `node index.mjs <mail file> …` prints, per file, one JSON line of
 * what `parseEmail` made of it (`parseOutcome`), so the bundled parser (with the stand-ins of infra/bundling.ts) can
 * be compared with the unbundled one.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEmail } from '#channels/email/parse.ts';

/** What a parse gave, without the attachment bytes (their digest stands for them); or the error's code. */
export async function parseOutcome(raw: Buffer): Promise<unknown> {
  try {
    const p = await parseEmail(raw);
    return { ...p, attachments: p.attachments.map(({ content: _content, ...rest }) => rest) };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return { error: typeof code === 'string' ? code : `uncoded: ${String(e)}` };
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  for (const file of process.argv.slice(2)) {
    process.stdout.write(`${JSON.stringify({ file, outcome: await parseOutcome(readFileSync(file)) })}\n`);
  }
}
