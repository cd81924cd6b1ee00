import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { placeKeys } from '#core/dedupe/address.ts';
import { candidateKeys, citizenKeysOf, entryOf, prepareReport, writeKeys } from '#core/dedupe/features.ts';
import { isBinnedSignature, normalizeText, shingles, sketchOfShingles } from '#core/dedupe/text.ts';
import { config, groups, HERE, report } from './helpers.ts';

const LONG =
  '尊敬的领导您好：我是和平小区的业主，小区3栋楼下的自来水管从上周开始一直漏水，物业说要等水务公司来修，' +
  '可是一个星期过去了还是没有人来，地面全是积水，老人小孩出入很不方便，晚上路灯也不亮，非常危险。' +
  '我们多次打电话给物业和社区，都说在协调，希望有关部门尽快派人维修，谢谢！';

describe('Function: prepareReport', () => {
  it('should sketch the title and text as sketchOfShingles(shingles(normalizeText(...))) does', () => {
    // Prepare
    const r = report({ id: 'R1', title: '水管漏水', text: LONG });
    // Act
    const f = prepareReport(r, config, groups);
    const slow = sketchOfShingles(
      shingles(normalizeText(`水管漏水 ${LONG}`, config.text.stopPhrases)),
      config.text.permutations,
      config.text.maxExactShingles,
    );
    // Assess
    expect(f.sketch.size).toBe(slow.size);
    expect([...f.sketch.sig]).toEqual([...slow.sig]);
    expect(isBinnedSignature(f.sketch.sig)).toBe(true);
  });

  it('should keep address keys first, then distinct keys from the text, at most four', () => {
    // Prepare
    const r = report({
      id: 'R2',
      title: '',
      text: '和平路12号门口水管爆了，人民西路5号也是，东门路8号，兰竹路9号，碧岭路18号',
      location: { address: '和平路十二号附近' },
    });
    // Act
    const f = prepareReport(r, config, groups);
    // Assess
    expect(f.placeKeys[0]).toBe('d:和平路#12');
    expect(f.placeKeys).toEqual(
      [...new Set([...placeKeys('和平路十二号附近'), ...placeKeys(` ${r.text}`, { fromText: true })])].slice(0, 4),
    );
    expect(new Set(f.placeKeys).size).toBe(f.placeKeys.length);
  });
});

describe('Function: citizenKeysOf', () => {
  it('should digest the phone without +86, the openid and the lowercased email with SHA-256 (base64url, 22 chars)', () => {
    // Prepare
    const digest = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 22);
    // Act
    const keys = citizenKeysOf({ phone: '+8613800138000', openid: ' o6_bmjrPTl ', email: 'A@B.cn' });
    // Assess
    expect(keys).toEqual([digest('tel:13800138000'), digest('wx:o6_bmjrPTl'), digest('mail:a@b.cn')]);
  });
});

describe('Function: entryOf', () => {
  it('should store the sketch without the in-memory hashes of a long text', () => {
    // Prepare
    const text = LONG + Array.from({ length: 300 }, (_, i) => String.fromCharCode(0x5000 + i)).join('');
    const f = prepareReport(report({ id: 'R3', text }), config, groups);
    // Act
    const e = entryOf(f, 'C1');
    // Assess
    expect(f.sketch.set).toBeUndefined();
    expect(Object.keys(e.sketch).sort()).toEqual(['sig', 'size']);
    expect(e.sketch.sig).toBe(f.sketch.sig);
  });
});

describe('Function: candidateKeys', () => {
  it('should read text band keys (8 hex digits) for long texts, the ones the first report of a case writes', () => {
    // Prepare
    const at = Date.parse('2025-06-01T08:00:00+08:00');
    const first = prepareReport(report({ id: 'R4', text: LONG, receivedAt: at }), config, groups);
    const copy = prepareReport(
      report({ id: 'R5', text: LONG, receivedAt: at + 3_600_000, location: { ...HERE } }),
      config,
      groups,
    );
    // Act
    const written = writeKeys(first, config, true).filter((k) => k.startsWith('t|'));
    const read = candidateKeys(copy, config).filter((k) => k.startsWith('t|'));
    // Assess
    expect(written).toHaveLength(config.nearDuplicate.bands);
    for (const k of written) expect(k).toMatch(/^t\|\d+\|[0-9a-f]{8}\|\d+$/);
    for (const k of written) expect(read).toContain(k);
  });
});
