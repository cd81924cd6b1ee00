/**
 * Local stand-ins that keep their data as plain files under the data folder, readable by people:
 * blobs (raw inputs, attachments) and the outbox (every message the system would send to a citizen).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { BlobStore, OutboundMessage, Outbox } from '#core/ports.ts';

function safeJoin(base: string, key: string): string {
  const rel = normalize(key)
    .replace(/^(\.\.[/\\])+/, '')
    .replace(/^[/\\]+/, '');
  const full = join(base, rel);
  if (!full.startsWith(base)) throw new Error(`unsafe key ${key}`);
  return full;
}

export class FileBlobStore implements BlobStore {
  constructor(private readonly dir: string) {}

  async put(key: string, body: Uint8Array): Promise<void> {
    const file = safeJoin(this.dir, key);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, body);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(safeJoin(this.dir, key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
}

/** `outbox/<channel>/<time>-<kind>-<id>.{eml,json}`: what would have gone out, for people and tests to read. */
export class FileOutbox implements Outbox {
  constructor(private readonly dir: string) {}

  async send(m: OutboundMessage): Promise<void> {
    const dir = join(this.dir, m.channel);
    await mkdir(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const base = `${stamp}-${m.kind}-${m.trackingNo ?? randomUUID().slice(0, 8)}-${randomUUID().slice(0, 4)}`;
    if (m.raw) await writeFile(join(dir, `${base}.eml`), m.raw);
    const { raw: _raw, ...meta } = m;
    await writeFile(join(dir, `${base}.json`), `${JSON.stringify(meta, null, 2)}\n`);
  }
}
