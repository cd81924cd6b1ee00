/** Builds web/dist unless it is up to date (`scripts/build-web.ts --if-stale`), in a child process. */
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export async function buildPages(): Promise<string> {
  const { stdout } = await promisify(execFile)(
    join(ROOT, 'node_modules/.bin/tsx'),
    [join(ROOT, 'scripts/build-web.ts'), '--if-stale', '--quiet'],
    { cwd: ROOT, timeout: 120_000 },
  );
  return stdout;
}
