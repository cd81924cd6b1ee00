import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeUtf8Strict, firstInvalidUtf8, parseCsv, readLabelledCsv } from '#core/classify/csv.ts';
import { CityLoopError } from '#core/errors.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof CityLoopError ? e.code : 'NOT_A_CITYLOOP_ERROR';
  }
  return undefined;
}

describe('Function: parseCsv', () => {
  it('should read quoted fields with commas, doubled quotes and newlines, CRLF and LF', () => {
    // Prepare
    const text =
      'text,label\r\n"路灯不亮，已经三天了",城乡建设\r\n"他说""马上修""\n结果没人来",城乡建设\nplain,交通运输\n';

    // Act
    const rows = parseCsv(text);

    // Assess
    expect(rows).toEqual([
      ['text', 'label'],
      ['路灯不亮，已经三天了', '城乡建设'],
      ['他说"马上修"\n结果没人来', '城乡建设'],
      ['plain', '交通运输'],
    ]);
  });

  it('should keep empty fields and a last line without a newline', () => {
    // Act
    const rows = parseCsv('a,b,c\n,,x\n"",y,');

    // Assess
    expect(rows).toEqual([
      ['a', 'b', 'c'],
      ['', '', 'x'],
      ['', 'y', ''],
    ]);
  });

  it('should refuse an unterminated quoted field and a bare quote', () => {
    // Assess
    expect(codeOf(() => parseCsv('text,label\n"never closed,城乡建设\n'))).toBe('CSV_UNTERMINATED_QUOTE');
    expect(codeOf(() => parseCsv('text,label\nab"c,城乡建设\n'))).toBe('CSV_BAD_QUOTE');
    expect(codeOf(() => parseCsv('text,label\n"abc"x,城乡建设\n'))).toBe('CSV_BAD_QUOTE');
  });
});

describe('Function: readLabelledCsv', () => {
  it('should read the text and label columns by name, in any order, skipping a BOM', () => {
    // Prepare
    const bytes = utf8('\uFEFFid,label,text\n1,教育文体,"学校乱收费, 请查处"\n2,环境保护,工厂夜间排放废气\n');

    // Act
    const rows = readLabelledCsv(bytes);

    // Assess
    expect(rows).toEqual([
      { text: '学校乱收费, 请查处', label: '教育文体' },
      { text: '工厂夜间排放废气', label: '环境保护' },
    ]);
  });

  it('should honour custom column names', () => {
    // Act
    const rows = readLabelledCsv(utf8('留言,类别\n噪音扰民,环境保护\n'), { textColumn: '留言', labelColumn: '类别' });

    // Assess
    expect(rows).toEqual([{ text: '噪音扰民', label: '环境保护' }]);
  });

  it('should report a missing column with its name and the columns found', () => {
    // Act
    let err: CityLoopError | undefined;
    try {
      readLabelledCsv(utf8('content,label\nx,y\n'));
    } catch (e) {
      err = e as CityLoopError;
    }

    // Assess
    expect(err?.code).toBe('CSV_MISSING_COLUMN');
    expect(err?.details).toEqual({ missing: ['text'], columns: ['content', 'label'] });
  });

  it('should report an empty label or text with the record number', () => {
    // Assess
    expect(codeOf(() => readLabelledCsv(utf8('text,label\n路灯坏了,城乡建设\n没有标签,\n')))).toBe('CSV_EMPTY_LABEL');
    expect(codeOf(() => readLabelledCsv(utf8('text,label\n"  ",城乡建设\n')))).toBe('CSV_EMPTY_TEXT');
    expect(codeOf(() => readLabelledCsv(utf8('text,label\n')))).toBe('CSV_EMPTY');
    expect(codeOf(() => readLabelledCsv(utf8('text,label\na,x\nb,x\n'), { minClasses: 2 }))).toBe(
      'CSV_TOO_FEW_CLASSES',
    );
  });

  it('should refuse GBK bytes as invalid UTF-8 instead of reading mojibake', () => {
    // Prepare
    const gbk = iconv.encode('text,label\n小区垃圾无人清运,城乡建设\n', 'gbk');

    // Act
    let err: CityLoopError | undefined;
    try {
      readLabelledCsv(gbk);
    } catch (e) {
      err = e as CityLoopError;
    }

    // Assess
    expect(err?.code).toBe('CSV_INVALID_ENCODING');
    expect(err?.message).toMatch(/GBK/);
    // 小 (D0 A1) happens to be a valid UTF-8 pair; the first invalid byte follows it, inside the first data row.
    const offset = (err?.details as { offset?: number } | undefined)?.offset ?? -1;
    expect(offset).toBeGreaterThanOrEqual(11);
    expect(offset).toBeLessThan(20);
  });
});

describe('Function: firstInvalidUtf8', () => {
  it('should agree with a fatal TextDecoder on valid, truncated, overlong and surrogate sequences', () => {
    // Prepare
    const cases: number[][] = [
      [0x61, 0xe4, 0xbd, 0xa0],
      [0x61, 0xe4, 0xbd],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf0, 0x9f, 0x98, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0x80],
    ];

    // Act & Assess
    for (const c of cases) {
      const bytes = Uint8Array.from(c);
      let fatal = false;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        fatal = true;
      }
      expect(firstInvalidUtf8(bytes) >= 0, c.join(',')).toBe(fatal);
    }
    expect(decodeUtf8Strict(utf8('好'))).toBe('好');
  });
});
