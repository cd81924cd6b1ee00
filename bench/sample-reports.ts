/**
 * Sample citizen reports for the benchmarks: real message texts (the TipDM 2020 provincial message board,
 * `../shared/data/classify/train.csv`) with generated contacts and places in the sample district, as the web form
 * sends them; and a realistic mix of submissions (new problems, resubmissions, repeats, incidents).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '#core/classify/csv.ts';
import { seeded } from '#core/random.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const TRAIN_CSV = join(here, '..', '..', 'shared', 'data', 'classify', 'train.csv');

export { seeded };

/** The web form's JSON body (see functions/http/requests.ts `webDraft`). */
export interface WebBody {
  title: string;
  text: string;
  citizen: { phone?: string; name?: string };
  location?: { address?: string; lat?: number; lon?: number };
}

const PLACES = [
  '和平路88号',
  '东门路12号',
  '坪山大道3001号',
  '比亚迪路6号',
  '碧岭路18号',
  '人民西路66号',
  '兰竹路9号',
  '东纵路201号',
  '六和社区和平里5栋',
  '金沙社区金沙一路2号',
  '龙田社区龙田路45号',
  '石井社区石井路8号',
];

/** Texts that name a local problem (so routing, the street backstop and dedupe have work), then the real messages. */
const LOCAL = [
  '{p}门口的路灯坏了一个星期，晚上很黑，请尽快维修。',
  '{p}附近自来水管爆裂，路面全是水，车都过不去。',
  '{p}小区垃圾桶满了好几天没人清运，臭味很大。',
  '{p}有工地晚上十一点以后还在施工，噪音扰民，影响休息。',
  '{p}人行道上的井盖缺失，很危险，老人小孩容易掉下去。',
  '{p}整栋楼突然停电了，到现在还没有来电。',
];

let fileTexts: string[] | undefined;

/** Real message texts (≤ 2,000 characters), in file order; generated ones when the data folder is absent. */
export function realTexts(max: number): string[] {
  if (!existsSync(TRAIN_CSV)) {
    return Array.from({ length: max }, (_, i) => LOCAL[i % LOCAL.length]!.replace('{p}', PLACES[i % PLACES.length]!));
  }
  if (!fileTexts) {
    const rows = parseCsv(readFileSync(TRAIN_CSV, 'utf8'));
    const col = rows[0]?.indexOf('text') ?? 0;
    fileTexts = rows
      .slice(1)
      .map((r) => (r[col] ?? '').trim())
      .filter((t) => t !== '' && [...t].length <= 2000);
  }
  return fileTexts.slice(0, max);
}

const MOBILE_PREFIXES = ['138', '139', '186', '150'];
const phoneOf = (i: number) =>
  `${MOBILE_PREFIXES[i % MOBILE_PREFIXES.length]}${String(10_000_000 + ((i * 7_919) % 89_999_999)).padStart(8, '0')}`;
const coordsNear = (r: ReturnType<typeof seeded>) => ({
  lat: Number((22.69 + r.next() * 0.06).toFixed(6)),
  lon: Number((114.32 + r.next() * 0.08).toFixed(6)),
});

/** `n` web-form bodies: a third local problems at known places, two thirds real messages; seeded, deterministic. */
export function sampleBodies(n: number, seed = 20251128): WebBody[] {
  const r = seeded(seed);
  const texts = realTexts(Math.ceil((n * 2) / 3) + 1);
  return Array.from({ length: n }, (_, i) => {
    const place = r.pick(PLACES);
    const local = i % 3 === 0 || texts.length === 0;
    const text = local ? r.pick(LOCAL).replace('{p}', place) : texts[(i - Math.ceil(i / 3)) % texts.length]!;
    const title = (text.split(/[。！？!?；;\n]/)[0] ?? text).slice(0, 30);
    return {
      title,
      text,
      citizen: { phone: phoneOf(i) },
      ...(local || r.next() < 0.5 ? { location: { address: place, ...(r.next() < 0.5 ? coordsNear(r) : {}) } } : {}),
    };
  });
}

export type SubmissionKind = 'new' | 'resubmission' | 'repeat' | 'incident';

export interface Submission {
  kind: SubmissionKind;
  body: WebBody;
  /** The page's Idempotency-Key: a resubmission (double click, retry) sends the same key again. */
  idempotencyKey: string;
}

/** Shares of the realistic mix: most reports are new problems; a storm makes incidents. */
export const DEFAULT_MIX: Readonly<Record<SubmissionKind, number>> = {
  new: 0.6,
  resubmission: 0.1,
  repeat: 0.1,
  incident: 0.2,
};

/**
 * `n` submissions in arrival order: `new` (a problem nobody reported), `resubmission` (the same form sent again with
 * the same Idempotency-Key), `repeat` (the same citizen about the same problem again, a new form), `incident` (another
 * citizen about a problem already reported, at the same place). Deterministic for a seed.
 */
export function submissionMix(n: number, mix = DEFAULT_MIX, seed = 7): Submission[] {
  const r = seeded(seed);
  const bodies = sampleBodies(n, seed);
  const out: Submission[] = [];
  let fresh = 0;
  const kinds = Object.entries(mix) as [SubmissionKind, number][];
  for (let i = 0; i < n; i++) {
    let roll = r.next();
    let kind: SubmissionKind = 'new';
    for (const [k, share] of kinds) {
      if (roll < share) {
        kind = k;
        break;
      }
      roll -= share;
    }
    const earlier = out.filter((s) => s.kind === 'new');
    if (kind !== 'new' && earlier.length === 0) kind = 'new';
    if (kind === 'new') {
      out.push({ kind, body: bodies[fresh++ % bodies.length]!, idempotencyKey: `bench-${seed}-${i}` });
      continue;
    }
    const base = r.pick(earlier);
    if (kind === 'resubmission') out.push({ ...base, kind });
    else if (kind === 'repeat') {
      out.push({
        kind,
        body: { ...base.body, text: `${base.body.text} 再次反映，仍未处理。` },
        idempotencyKey: `bench-${seed}-${i}`,
      });
    } else {
      out.push({
        kind,
        body: { ...base.body, citizen: { phone: phoneOf(100_000 + i) }, text: `我也反映一下：${base.body.text}` },
        idempotencyKey: `bench-${seed}-${i}`,
      });
    }
  }
  return out;
}
