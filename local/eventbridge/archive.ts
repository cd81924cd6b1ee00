/**
 * An archive: the events of one bus that match its (optional) pattern, kept in memory and, when a folder is
 * given, appended as JSON lines to `<dir>/<archive-name>.jsonl` so a replay works across restarts.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-archive.html
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEnvelope } from './envelope.ts';

export interface ArchivedEvent {
  archivedAt: string;
  event: EventEnvelope;
}

export class ArchiveStore {
  private readonly events: ArchivedEvent[] = [];
  private readonly file: string | undefined;
  private bytes = 0;

  constructor(name: string, dir: string | undefined, retentionDays: number, now: Date) {
    if (dir === undefined) return;
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${name}.jsonl`);
    if (!existsSync(this.file)) return;
    const cutoff = retentionDays > 0 ? now.getTime() - retentionDays * 86_400_000 : -Infinity;
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let rec: ArchivedEvent;
      try {
        rec = JSON.parse(line) as ArchivedEvent;
      } catch {
        continue; // a line cut short by a crash: skip it
      }
      if (typeof rec?.event?.id !== 'string' || Date.parse(rec.archivedAt) < cutoff) continue;
      this.events.push(rec);
      this.bytes += Buffer.byteLength(line, 'utf8');
    }
  }

  add(event: EventEnvelope, now: Date): void {
    const rec: ArchivedEvent = { archivedAt: now.toISOString(), event };
    const line = JSON.stringify(rec);
    if (this.file !== undefined) appendFileSync(this.file, `${line}\n`);
    this.events.push(rec);
    this.bytes += Buffer.byteLength(line, 'utf8');
  }

  get count(): number {
    return this.events.length;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Archived events whose event time lies in [from, to], in archive order. */
  between(from: Date, to: Date): EventEnvelope[] {
    const lo = from.getTime();
    const hi = to.getTime();
    return this.events
      .filter((rec) => {
        const t = Date.parse(rec.event.time);
        const at = Number.isNaN(t) ? Date.parse(rec.archivedAt) : t;
        return at >= lo && at <= hi;
      })
      .map((rec) => rec.event);
  }
}
