/**
 * The due-index key of a stored case (`core/case.ts`), written by every case write (`DynamoStore.caseItem` sets
 * `duePk`/`dueSk` from `caseDueKey(case)`, or leaves them out: the GSI stays sparse, only open cases with a timer to
 * come are in it). The key names the case's next timer, or its receipt instant while a provisional-deadline alarm is
 * owed (so the sweep raises it within a minute). Light on purpose: no calendar, no taxonomy (every Lambda that writes
 * a case bundles it).
 */
import type { Case } from '../case.ts';
import { asSlaRecord, type SlaRecord } from './deadlines.ts';
import { type DueIndexKey, dueIndexKey, dueIndexKeyFor, runningClocks, type SweepCaseView } from './sweep.ts';

/**
 * Shards of the due index (`DUE#0` … `DUE#7`). Writers and the sweep must agree: changing it orphans entries in
 * shards the sweep no longer reads until those cases are written again.
 */
export const DUE_SHARDS = 8;

/** `DUE#<shard>`: the partition key of one shard of the due index. */
export const dueShardPk = (shard: number): string => `DUE#${shard}`;

/** Case field recording the calendar version a provisional-deadline alarm was raised for (raised once per version). */
export const PROVISIONAL_ALARM_FIELD = 'slaCalendarAlarm';

type DueCase = Pick<Case, 'caseId' | 'state' | 'deadlines' | 'timestamps'> & { [PROVISIONAL_ALARM_FIELD]?: unknown };

function sweepView(c: DueCase): SweepCaseView {
  return { caseId: c.caseId, state: c.state, deadlines: c.deadlines, timestamps: c.timestamps };
}

/** Whether the sweep still owes the `Calendar.Provisional` alarm for this case (open, provisional, not yet raised). */
export function provisionalAlarmOwed(c: DueCase): boolean {
  const record = asSlaRecord(c.deadlines);
  if (!record?.provisional) return false;
  if (c[PROVISIONAL_ALARM_FIELD] === record.calendarVersion) return false;
  return runningClocks(c.state, Boolean(c.timestamps?.firstContactAt)).length > 0;
}

/** The due-index key a case must carry now (null: none, the case leaves the index). */
export function caseDueKey(c: DueCase, shards: number = DUE_SHARDS): DueIndexKey | null {
  if (provisionalAlarmOwed(c)) {
    const record = asSlaRecord(c.deadlines) as SlaRecord;
    return dueIndexKey(c.caseId, record.receivedAt, record.generation, shards);
  }
  return dueIndexKeyFor(sweepView(c), shards);
}
