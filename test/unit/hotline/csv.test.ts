import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  type CsvHeader,
  decodeCsv,
  mapHeader,
  readCsvRecords,
  rowToSubmission,
  stableUuid,
} from '#channels/hotline/csv.ts';
import { UUID_PATTERN } from '#channels/hotline/submission.ts';

const TEXT = '编号,姓名,电话,内容\r\nL-1,张三,13800138000,"路灯不亮，已经一周"\r\n';

describe('Function: decodeCsv', () => {
  it.each([
    ['UTF-8', Buffer.from(TEXT, 'utf8'), 'utf-8'],
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT, 'utf8')]), 'utf-8-bom'],
    ['GBK', iconv.encode(TEXT, 'gbk'), 'gb18030'],
    ['GB18030', iconv.encode(TEXT, 'gb18030'), 'gb18030'],
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(TEXT, 'utf-16le')]), 'utf-16le'],
  ])('should read %s', (_name, bytes, encoding) => {
    // Act
    const out = decodeCsv(bytes);
    // Assess
    expect(out).toEqual({ text: TEXT, encoding });
  });
});

describe('Function: readCsvRecords', () => {
  it('should read quoted commas, doubled quotes and line breaks, with the line each record starts on', () => {
    // Prepare
    const text = 'a,b,c\n1,"x, y","say ""hi"""\n2,"line one\nline two",z\r\n\n3,,\n4,"",last';
    // Act
    const out = readCsvRecords(text);
    // Assess
    expect(out).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', 'say "hi"'] },
      { line: 3, fields: ['2', 'line one\nline two', 'z'] },
      { line: 6, fields: ['3', '', ''] },
      { line: 7, fields: ['4', '', 'last'] },
    ]);
  });

  it('should reject a broken record and go on with the next line', () => {
    // Prepare
    const text = 'a,b\n1,he said "hi"\n2,"ok" then\n3,fine\n';
    // Act
    const out = readCsvRecords(text);
    // Assess
    expect(out).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, error: expect.objectContaining({ code: 'CSV_BAD_QUOTE' }) },
      { line: 3, error: expect.objectContaining({ code: 'CSV_BAD_QUOTE' }) },
      { line: 4, fields: ['3', 'fine'] },
    ]);
  });

  it('should report an unterminated quote once, from where it starts', () => {
    // Act
    const out = readCsvRecords('a,b\n1,"never closed\n2,x\n');
    // Assess
    expect(out).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, error: expect.objectContaining({ code: 'CSV_UNTERMINATED_QUOTE' }) },
    ]);
  });
});

describe('Function: mapHeader', () => {
  it('should accept Chinese and English names and ignore a row-number column', () => {
    const out = mapHeader(['序号', '编号', 'Name', '联系电话', '诉求内容', '来信日期']);
    expect(out).toEqual({
      ok: true,
      header: { columns: { ref: 1, name: 2, phone: 3, text: 4, receivedAt: 5 }, width: 6 },
    });
  });

  it.each([
    [['编号', '内容', '备注'], 'CSV_UNKNOWN_COLUMN'],
    [['编号', '内容', 'text'], 'CSV_DUPLICATE_COLUMN'],
    [['编号', '姓名'], 'CSV_MISSING_COLUMN'],
    [['内容', '姓名'], 'CSV_MISSING_COLUMN'],
  ])('should refuse the header %j', (fields, code) => {
    expect(mapHeader(fields)).toMatchObject({ ok: false, code });
  });
});

describe('Function: rowToSubmission', () => {
  const header = (
    mapHeader(['编号', '来源', '姓名', '电话', '匿名', '内容', '性质', '地址', '收件日期']) as {
      header: CsvHeader;
    }
  ).header;

  it('should map a letter row to a submission', () => {
    // Act
    const out = rowToSubmission(
      ['L-7', '来信', '李四', '13800138000', '', '噪音扰民', '投诉', '坪山大道1号', '2025-11-20'],
      header,
    );
    // Assess
    expect(out).toEqual({
      ok: true,
      ref: 'L-7',
      submission: {
        source: 'letter',
        ref: 'L-7',
        citizen: { name: '李四', phone: '13800138000' },
        text: '噪音扰民',
        nature: '投诉',
        location: { address: '坪山大道1号' },
        receivedAt: '2025-11-20',
      },
    });
  });

  it('should give a walk-in row a client uuid that is the same on every run', () => {
    // Act
    const a = rowToSubmission(['W-1', '来访', '', '', '是', '咨询办事流程', '', '', ''], header);
    const b = rowToSubmission(['W-1', '来访', '', '', '是', '咨询办事流程', '', '', ''], header);
    // Assess
    expect(a.ok && a.submission).toMatchObject({ source: 'walkin', citizen: { anonymous: true } });
    expect(a.ok && a.submission.clientId).toMatch(UUID_PATTERN);
    expect(a.ok && a.submission.clientId).toBe(b.ok && b.submission.clientId);
    expect(stableUuid('W-1')).not.toBe(stableUuid('W-2'));
  });

  it.each([
    [['L-1', '', '', '13800138000', ''], 'CSV_FIELD_COUNT'],
    [['', '', '', '13800138000', '', '内容', '', '', ''], 'REF_REQUIRED'],
    [['L-1', '', '', '13800138000', '', '', '', '', ''], 'TEXT_REQUIRED'],
    [['L-1', '传真', '', '13800138000', '', '内容', '', '', ''], 'INVALID_SOURCE'],
    [['L-1', '', '', '13800138000', '', '内容', '表扬', '', ''], 'INVALID_NATURE'],
    [['L-1', '', '', '13800138000', '也许', '内容', '', '', ''], 'INVALID_ANONYMOUS'],
    [['L-1', '', '王五', '', '否', '内容', '', '', ''], 'NO_CONTACT'],
    [['L-1', '', '\uFFFD\uFFFD', '13800138000', '', '内容', '', '', ''], 'INVALID_ENCODING'],
  ])('should reject %j with %s', (fields, code) => {
    expect(rowToSubmission(fields, header)).toMatchObject({ ok: false, code });
  });
});
