import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { tuneSqlite } from '#local/emulators.ts';

describe('Function: tuneSqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cityloop-sqlite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should turn off the fsync per statement (synchronous NORMAL) on the queue database', () => {
    // Prepare: a WAL database as fauxqs opens it (synchronous FULL = 2 by default)
    const db = new DatabaseSync(join(dir, 'q.db'));
    db.exec('PRAGMA journal_mode = WAL');
    const before = db.prepare('PRAGMA synchronous').get() as { synchronous: number };
    // Act
    tuneSqlite(db);
    // Assess
    const after = db.prepare('PRAGMA synchronous').get() as { synchronous: number };
    expect(before.synchronous).toBe(2);
    expect(after.synchronous).toBe(1);
    db.close();
  });

  it('should leave a missing database alone', () => {
    expect(() => tuneSqlite(undefined)).not.toThrow();
  });
});
