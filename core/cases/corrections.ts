/**
 * 人工分拨纠错 → 训练样本: every time the centre decides a case's category by hand (人工分拨 of a doubtful case, or 改派 /
 * 退单通过 with a new category), the case's text and the chosen leaf become one labelled example for the next training
 * of the classifier (`cityloop corrections` exports them as a `text,label` CSV that `cityloop train` reads).
 *
 * - Phone numbers and e-mail addresses in the text are masked before the example is kept (the shared training data is
 *   masked the same way), so the export carries no contact details.
 * - The example remembers what the classifier had said (category, label, confidence, auto or manual), so an export can
 *   tell real corrections (the model was wrong) from confirmations (a doubtful guess the supervisor kept).
 * - `<caseId>@<version>` is the example's id: a retried step writes the same example again, never a second one.
 */
import type { Case } from '../case.ts';
import { recordCorrection } from '../classify/classifier.ts';
import type { TaxonomyIndex } from '../classify/taxonomy.ts';
import { toShanghaiIso } from '../ids.ts';
import type { AuditRecord } from '../lifecycle/types.ts';
import { maskText } from '../privacy.ts';

/** Actions by which a person sets a case's category. */
export const CATEGORY_DECISIONS: ReadonlySet<string> = new Set(['assignTriage', 'redispatch', 'approveReturn']);

export interface TrainingExample {
  /** `<caseId>@<version>`: one example per step. */
  id: string;
  caseId: string;
  version: number;
  /** When the supervisor decided (Asia/Shanghai ISO) and its day (YYYY-MM-DD, the storage partition). */
  at: string;
  day: string;
  /** Title and text of the case, contacts masked. */
  text: string;
  /** The model label covering the chosen leaf (the classifier's training label). */
  label: string;
  /** The chosen leaf category (事项). */
  category: string;
  /** What triage had decided before the person did. */
  predicted: { category?: string; label?: string; confidence: number; decision: 'auto' | 'manual' };
  /** True when the person changed the category (the model was wrong); false when they kept the suggested one. */
  corrected: boolean;
  action: string;
  by: string;
  channel?: string;
}

/** Where examples are kept: one partition per day (DynamoDB in `adapters/dynamo/training-examples.ts`). */
export interface TrainingExampleStore {
  putExample(e: TrainingExample): Promise<void>;
  /** Examples decided on the days `from`..`to` (inclusive, YYYY-MM-DD), oldest first. */
  listExamples(from: string, to: string): Promise<TrainingExample[]>;
}

/**
 * The labelled example one written step yields, or undefined when the step set no category (or kept the category of a
 * case a person had already categorised, e.g. a 改派 to another department only).
 */
export function correctionOf(
  before: Case,
  after: Case,
  audit: AuditRecord,
  index: TaxonomyIndex,
): TrainingExample | undefined {
  if (!CATEGORY_DECISIONS.has(audit.action) || audit.actor.role === 'system') return undefined;
  const category = after.category;
  if (!category) return undefined;
  const changed = category !== before.category;
  // Keeping the category on a 改派 says nothing about the text; confirming a doubtful guess in 人工分拨 does.
  if (!changed && audit.action !== 'assignTriage') return undefined;
  if (!index.leaves.some((l) => l.code === category)) return undefined;
  const row = recordCorrection(index, {
    title: maskText(after.title ?? ''),
    text: maskText(after.text ?? ''),
    category,
  });
  if (row.text === '') return undefined;
  const was = before.classification;
  return {
    id: `${after.caseId}@${after.version}`,
    caseId: after.caseId,
    version: after.version,
    at: audit.at,
    day: toShanghaiIso(new Date(audit.at)).slice(0, 10),
    text: row.text,
    label: row.label,
    category: row.category,
    predicted: {
      ...(was?.category ? { category: was.category } : {}),
      ...(was?.label ? { label: was.label } : {}),
      confidence: was?.confidence ?? 0,
      decision: was?.decision ?? 'manual',
    },
    corrected: was?.category !== category,
    action: audit.action,
    by: audit.actor.id,
    ...(after.channel ? { channel: after.channel } : {}),
  };
}

const q = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export const EXAMPLE_CSV_COLUMNS = [
  'text',
  'label',
  'category',
  'predicted_label',
  'predicted_category',
  'confidence',
  'corrected',
  'action',
  'case_id',
  'at',
] as const;

/** The examples as a CSV that `cityloop train --data` reads (`text` and `label` columns; the rest for people). */
export function examplesCsv(rows: readonly TrainingExample[]): string {
  const lines = [EXAMPLE_CSV_COLUMNS.join(',')];
  for (const e of rows) {
    lines.push(
      [
        e.text,
        e.label,
        e.category,
        e.predicted.label ?? '',
        e.predicted.category ?? '',
        e.predicted.confidence.toFixed(4),
        e.corrected ? 'true' : 'false',
        e.action,
        e.caseId,
        e.at,
      ]
        .map(q)
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** In-memory store with the same semantics (tests, dry runs). */
export class MemoryTrainingExamples implements TrainingExampleStore {
  private readonly byId = new Map<string, TrainingExample>();

  async putExample(e: TrainingExample): Promise<void> {
    this.byId.set(e.id, structuredClone(e));
  }

  async listExamples(from: string, to: string): Promise<TrainingExample[]> {
    return [...this.byId.values()]
      .filter((e) => e.day >= from && e.day <= to)
      .sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  }
}
