/**
 * A small storm for triage tests: `n` citizen reports about three incidents (a burst water main, a row of dark
 * street lights, night-time construction noise), with varied wording, address spellings, jittered coordinates,
 * coordinates-only / address-only / both, two channels, and a few citizens who report twice. Seeded: the same
 * seed gives the same reports. Every text names the place (in one of its spellings), so any two reports of one
 * incident match each other directly, whatever order concurrent workers take them in: these tests are about the
 * wiring and the race, the bench measures recall on harder reports.
 */
import { createHash } from 'node:crypto';
import { seeded } from '#core/random.ts';

export interface IncidentDraft {
  incident: 'water' | 'lights' | 'noise';
  channel: 'web' | 'hotline';
  title: string;
  text: string;
  phone: string;
  location: { address?: string; lat?: number; lon?: number };
  /** Stable per report: the web idempotency key / the hotline walk-in client uuid. */
  key: string;
  uuid: string;
}

const rng = seeded;

const INCIDENTS = {
  water: {
    where: { lat: 22.6905, lon: 114.3502 },
    places: ['和平路12号', '和平路十二号', '坪山区和平路１２号附近', '深圳市坪山区和平路12号门口'],
    titles: ['水管爆裂', '自来水管爆了', '爆管'],
    cores: ['自来水管爆裂，水喷得很高', '自来水管爆了，水漫到马路上', '供水管爆裂，水一直在往外喷'],
  },
  lights: {
    where: { lat: 22.7031, lon: 114.3655 },
    places: ['东门路88号', '东门路八十八号', '坪山区东门路８８号对面'],
    titles: ['路灯不亮', '路灯坏了'],
    cores: ['一整排路灯都不亮，晚上一片漆黑', '路灯坏了，整条路灯都不亮', '路灯全黑了，路灯不亮走路很危险'],
  },
  noise: {
    where: { lat: 22.6802, lon: 114.3391 },
    places: ['翠华花园3栋', '翠华花园三号楼', '坪山区翠华花园3#楼'],
    titles: ['工地夜间施工噪音', '夜间施工扰民'],
    cores: ['旁边工地半夜施工，打桩噪音很大', '工地凌晨还在施工打桩，噪音太吵了', '夜间工地施工打桩，机器轰鸣噪音扰民'],
  },
} as const;

const PREFIX = ['', '', '你好，', '紧急！', '我要反映一下，'];
const SUFFIX = ['', '请尽快处理', '已经半个小时了', '谢谢'];

function jitter(r: ReturnType<typeof rng>, lat: number, lon: number, metres: number) {
  const n = (r.next() - 0.5) * 2 * metres;
  const e = (r.next() - 0.5) * 2 * metres;
  return { lat: lat + n / 111_195, lon: lon + e / (111_195 * Math.cos((lat * Math.PI) / 180)) };
}

const uuidOf = (s: string): string => {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** `n` reports: about half water, 30 % lights, 20 % noise; 5 % are a second report of an earlier citizen. */
export function threeIncidents(n = 200, seed = 6): IncidentDraft[] {
  const r = rng(seed);
  const out: IncidentDraft[] = [];
  for (let i = 0; i < n; i++) {
    const x = r.next();
    const incident: IncidentDraft['incident'] = x < 0.5 ? 'water' : x < 0.8 ? 'lights' : 'noise';
    const inc = INCIDENTS[incident];
    const place = r.pick(inc.places);
    const y = r.next();
    const location =
      y < 0.4
        ? jitter(r, inc.where.lat, inc.where.lon, 80)
        : y < 0.7
          ? { address: place }
          : { address: place, ...jitter(r, inc.where.lat, inc.where.lon, 80) };
    const again = i > 10 && r.next() < 0.05 ? out.find((o) => o.incident === incident) : undefined;
    out.push({
      incident,
      channel: r.next() < 0.8 ? 'web' : 'hotline',
      title: r.pick(inc.titles),
      text: `${r.pick(PREFIX)}${r.pick(inc.places)}${r.pick(inc.cores)}${r.pick(SUFFIX)}`,
      phone: again?.phone ?? `1390000${String(1000 + i).padStart(4, '0')}`,
      location,
      key: `storm-${seed}-${i}`,
      uuid: uuidOf(`storm-${seed}-${i}`),
    });
  }
  return out;
}
