import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chineseNumeral, MAX_PLACE_KEYS, normalizeAddress, placeKeys } from '#core/dedupe/address.ts';

describe('Function: chineseNumeral', () => {
  it('should read positional and digit-by-digit numerals', () => {
    // Act / Assess
    expect(chineseNumeral('三')).toBe(3);
    expect(chineseNumeral('十二')).toBe(12);
    expect(chineseNumeral('二十')).toBe(20);
    expect(chineseNumeral('一百零五')).toBe(105);
    expect(chineseNumeral('五〇三')).toBe(503);
    expect(chineseNumeral('路')).toBeUndefined();
  });
});

describe('Function: normalizeAddress', () => {
  it('should fold full-width digits, numerals before units, 号楼/幢/# and noise words', () => {
    // Act / Assess
    expect(normalizeAddress('和平路十二号附近')).toBe('和平路12号');
    expect(normalizeAddress('和平小区三号楼二单元门口')).toBe('和平小区3栋2单元');
    expect(normalizeAddress('和平小区３幢对面')).toBe('和平小区3栋');
    expect(normalizeAddress('和平小区 3#楼')).toBe('和平小区3栋');
  });

  it('should keep numerals that are part of a name', () => {
    // Act / Assess
    expect(normalizeAddress('五一路')).toBe('五一路');
    expect(normalizeAddress('二环路与三中附近')).toBe('二环路与三中');
  });

  it('should shorten English street words', () => {
    // Act / Assess
    expect(normalizeAddress('123 West 45th Street, New York')).toBe('123 w 45 st');
  });
});

describe('Function: placeKeys', () => {
  it('should let two spellings of one door number meet', () => {
    // Act / Assess
    expect(placeKeys('深圳市坪山区坪山街道和平路１２号')).toEqual(placeKeys('和平路十二号门口'));
    expect(placeKeys('和平路12号')).toEqual(['d:和平路#12', 'r:和平路']);
    expect(placeKeys('人民西路5号')).toEqual(placeKeys('广东省深圳市人民西路五号对面'));
  });

  it('should let two spellings of one building meet, with or without 小区', () => {
    // Act
    const a = placeKeys('坪山区六和社区杜鹃文苑小区三号楼');
    const b = placeKeys('杜鹃文苑3栋楼下');
    // Assess
    expect(a).toEqual(['b:鹃文苑#3']);
    expect(b).toEqual(a);
  });

  it('should key a crossing by its two roads in a fixed order', () => {
    // Act / Assess
    expect(placeKeys('东门路与和平路交叉口')[0]).toBe('x:东门路×和平路');
    expect(placeKeys('和平路和东门路路口对面')[0]).toBe('x:东门路×和平路');
  });

  it('should key a village and its group', () => {
    // Act / Assess
    expect(placeKeys('江背镇乌川湖村五组')).toEqual(['v:川湖村#5']);
  });

  it('should keep building, door and road keys side by side, most specific first', () => {
    // Act / Assess
    expect(placeKeys('和平路12号和平小区3栋')).toEqual(['b:和平#3', 'd:和平路#12', 'r:和平路']);
  });

  it('should give a road alone only the weak road key, and nothing to text without a place', () => {
    // Act / Assess
    expect(placeKeys('坪山大道')).toEqual(['r:坪山大道']);
    expect(placeKeys('市场监管局')).toEqual([]);
    expect(placeKeys('')).toEqual([]);
  });

  it('should cut names the same way in free text and in an address field', () => {
    // Act / Assess
    expect(placeKeys('你好，和平路12号门口自来水管爆裂', { fromText: true })).toEqual(['d:和平路#12', 'r:和平路']);
    expect(placeKeys('深圳市坪山区和平路12号')[0]).toBe('d:和平路#12');
    expect(placeKeys('水管爆了，路面全是水，水漫到马路上', { fromText: true })).toEqual([]);
    expect(placeKeys('修路太慢了', { fromText: true })).toEqual([]);
    expect(placeKeys('和平小区3#楼下面', { fromText: true })).toEqual(['b:和平#3']);
    expect(placeKeys('我家里这里的小区很乱', { fromText: true })).toEqual([]);
  });

  it('should key an English house number and street', () => {
    // Act / Assess
    expect(placeKeys('123 W 45 ST')).toEqual(placeKeys('123 West 45th Street, Manhattan'));
  });
});

describe('Function: placeKeys (estates without a suffix)', () => {
  it('should key a building of an estate named without 小区/花园 by the last two characters', () => {
    // Act / Assess
    expect(placeKeys('坪山区金地朗悦十四号楼')).toEqual(['b:朗悦#14']);
    expect(placeKeys('金地朗悦小区14栋楼下')).toEqual(['b:朗悦#14']);
    expect(placeKeys('六联花园5栋')).not.toEqual(placeKeys('汤坑花园5栋'));
  });

  it('should not read 路灯, 路面 or 街道 as the end of a road name', () => {
    // Act / Assess
    expect(placeKeys('一整排路灯都不亮', { fromText: true })).toEqual([]);
    expect(placeKeys('坪山街道和平路12号', { fromText: true })).toEqual(['d:和平路#12', 'r:和平路']);
  });
});

describe('Function: placeKeys (free text, clause by clause)', () => {
  /** Place-bearing and plain characters, separators (ASCII, full-width, emoji) and characters outside the BMP. */
  const PIECES = [
    ...'和平路东门大道12号栋座幢楼小区花园苑村组与和交及三五十零期单元门口附近对面的了这我水管爆路灯面街巷区园a1２'.split(
      '',
    ),
    ...['，', '。', ' ', '!', '、', '#', '-', '😀', '𠀀', '\ud800'],
  ];
  const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 80 }).map((a) => a.join(''));

  /** What the keys of a text must be, from the keys of its clauses read one at a time (the documented rule). */
  function fromClauses(t: string): string[] {
    const keys: string[] = [];
    const roads: string[] = [];
    const folded = t.normalize('NFKC').replace(/(\d+)\s*#\s*(?:楼)?/g, '$1栋');
    for (const clause of folded.split(/[\s\p{P}\p{S}]+/u)) {
      if (keys.length >= MAX_PLACE_KEYS) break;
      const own = placeKeys(clause, { fromText: true });
      keys.push(...own.filter((k) => !k.startsWith('r:')));
      roads.push(...own.filter((k) => k.startsWith('r:')));
    }
    return [...new Set([...keys, ...roads])].slice(0, MAX_PLACE_KEYS);
  }

  it('should give the keys its clauses give, in text order, roads last, at most MAX_PLACE_KEYS', () => {
    fc.assert(
      fc.property(text, (t) => {
        // Act / Assess
        expect(placeKeys(t, { fromText: true })).toEqual(fromClauses(t));
      }),
      { numRuns: 500 },
    );
  });

  it('should never bring a place character into a clause that had none (why such clauses can be skipped)', () => {
    const PLACE = /[栋座幢号路街巷弄道区园村庄寓厦苑]/g;
    fc.assert(
      fc.property(text, (t) => {
        // Act
        const before = new Set(t.normalize('NFKC').match(PLACE) ?? []);
        const after = new Set(normalizeAddress(t).match(PLACE) ?? []);
        // Assess: only 幢/号楼/# become 栋
        if (before.has('幢') || before.has('号') || t.includes('#')) before.add('栋');
        for (const ch of after) expect(before.has(ch)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('should find places in clauses between emoji and other symbols outside the BMP', () => {
    // Act / Assess
    expect(placeKeys('路灯坏了😀和平路12号门口😀谢谢', { fromText: true })).toEqual(['d:和平路#12', 'r:和平路']);
    expect(placeKeys('𠀀和平小区3栋楼下', { fromText: true })).toEqual(['b:和平#3']);
  });

  it('should stop at MAX_PLACE_KEYS precise keys, later clauses first over an early road', () => {
    // Act
    const keys = placeKeys('东门路边上很吵。和平路1号，人民路2号，兰竹路3号，比亚迪路4号，碧岭路5号', {
      fromText: true,
    });
    // Assess
    expect(keys).toEqual(['d:和平路#1', 'd:人民路#2', 'd:兰竹路#3', 'd:亚迪路#4']);
  });
});
