/**
 * Paper and letter requests typed into a spreadsheet (来信/来访登记表), for bulk entry: encoding detection, an
 * RFC 4180 reader that keeps line numbers and rejects a broken record without losing the rest of the file, and the
 * mapping of a row to an agent submission. Pure (iconv-lite only decodes bytes).
 *
 * Encodings: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else GB18030 (a superset of GBK
 * and GB2312, what Chinese Excel and WPS write by default). A row that still holds undecodable bytes is rejected,
 * never imported as mojibake.
 */
import { createHash } from 'node:crypto';
import iconv from 'iconv-lite';
import { NATURES, type Nature } from '#core/intake/schema.ts';
import type { AgentSubmission, Source } from './submission.ts';

export type CsvEncoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'gb18030';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeCsv(bytes: Uint8Array): { text: string; encoding: CsvEncoding } {
  const b = bytes;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(b.subarray(3)), encoding: 'utf-8-bom' };
  }
  if (b[0] === 0xff && b[1] === 0xfe) return { text: iconv.decode(b.subarray(2), 'utf-16le'), encoding: 'utf-16le' };
  if (b[0] === 0xfe && b[1] === 0xff) return { text: iconv.decode(b.subarray(2), 'utf-16be'), encoding: 'utf-16be' };
  try {
    return { text: utf8.decode(b), encoding: 'utf-8' };
  } catch {
    return { text: iconv.decode(b, 'gb18030'), encoding: 'gb18030' };
  }
}

export type CsvRecord =
  | { line: number; fields: string[] }
  | { line: number; error: { code: 'CSV_BAD_QUOTE' | 'CSV_UNTERMINATED_QUOTE'; message: string } };

/**
 * Splits CSV text into records with the line each starts on. Quoted fields may hold commas, doubled quotes and line
 * breaks. A quote inside an unquoted field, or text after a closing quote, spoils that record only: it is reported
 * and reading resumes on the next line. An unterminated quote spoils everything from its record to the end.
 * Blank lines are skipped.
 */
export function readCsvRecords(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let error: CsvRecord | undefined;
    // One field per turn; a record ends at a line break or the end of the text.
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (!closed) {
          out.push({
            line: start,
            error: {
              code: 'CSV_UNTERMINATED_QUOTE',
              message: `第 ${start} 行起的引号字段没有结束，其后内容无法读取 unterminated quoted field from line ${start}`,
            },
          });
          return out;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          error = badQuote(start, `第 ${line} 行引号字段后有多余字符 text after a closing quote on line ${line}`);
          break;
        }
      } else {
        let j = i;
        while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r' && text[j] !== '"') j++;
        if (text[j] === '"') {
          error = badQuote(
            start,
            `第 ${line} 行未加引号的字段中有引号 bare quote in an unquoted field on line ${line}`,
          );
          break;
        }
        field = text.slice(i, j);
        i = j;
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (i < n) {
        i = skipLineBreak(text, i);
        line++;
      }
      break;
    }
    if (error) {
      out.push(error);
      // Resume on the next physical line.
      while (i < n && text[i] !== '\n' && text[i] !== '\r') i++;
      if (i < n) {
        i = skipLineBreak(text, i);
        line++;
      }
      continue;
    }
    if (!(fields.length === 1 && fields[0] === '')) out.push({ line: start, fields });
  }
  return out;
}

function badQuote(line: number, message: string): CsvRecord {
  return { line, error: { code: 'CSV_BAD_QUOTE', message } };
}

function skipLineBreak(text: string, i: number): number {
  if (text[i] === '\r') return text[i + 1] === '\n' ? i + 2 : i + 1;
  if (text[i] === '\n') return i + 1;
  return i;
}

/** The columns of the import file, with the header names accepted for each (English or Chinese). */
export const CSV_COLUMNS = {
  source: ['source', '来源'],
  ref: ['ref', '编号', '来信编号', '登记编号'],
  receivedAt: ['received_at', 'receivedat', '收件日期', '来信日期', '登记日期'],
  name: ['name', '姓名'],
  phone: ['phone', '电话', '手机', '联系电话'],
  email: ['email', '邮箱', '电子邮箱'],
  anonymous: ['anonymous', '匿名'],
  title: ['title', '标题', '主题'],
  text: ['text', '内容', '诉求内容'],
  address: ['address', '地址', '事发地址'],
  nature: ['nature', '性质', '诉求性质'],
  category: ['category', '类别', '事项类别'],
} as const;
export type CsvColumn = keyof typeof CSV_COLUMNS;

/** Header names that are ignored on purpose (row numbers spreadsheets add). */
export const IGNORED_COLUMNS = ['序号', 'no', '#'];

export interface CsvHeader {
  columns: Partial<Record<CsvColumn, number>>;
  width: number;
}

export type HeaderResult = { ok: true; header: CsvHeader } | { ok: false; code: string; message: string };

export function mapHeader(fields: string[]): HeaderResult {
  const columns: Partial<Record<CsvColumn, number>> = {};
  const unknown: string[] = [];
  const twice: string[] = [];
  fields.forEach((raw, idx) => {
    const name = raw
      .replace(/^\uFEFF/, '')
      .trim()
      .toLowerCase();
    if (IGNORED_COLUMNS.includes(name) || name === '') return;
    const col = (Object.keys(CSV_COLUMNS) as CsvColumn[]).find((c) =>
      (CSV_COLUMNS[c] as readonly string[]).includes(name),
    );
    if (!col) unknown.push(raw.trim());
    else if (columns[col] !== undefined) twice.push(raw.trim());
    else columns[col] = idx;
  });
  if (unknown.length) {
    return {
      ok: false,
      code: 'CSV_UNKNOWN_COLUMN',
      message: `未知的列 unknown column(s): ${unknown.join(', ')}（可用列 known: ${Object.values(CSV_COLUMNS)
        .map((a) => a.join('/'))
        .join(', ')}）`,
    };
  }
  if (twice.length)
    return { ok: false, code: 'CSV_DUPLICATE_COLUMN', message: `重复的列 duplicate column(s): ${twice.join(', ')}` };
  if (columns.text === undefined)
    return { ok: false, code: 'CSV_MISSING_COLUMN', message: '缺少 内容/text 列 no text column' };
  if (columns.ref === undefined)
    return { ok: false, code: 'CSV_MISSING_COLUMN', message: '缺少 编号/ref 列 no ref column' };
  return { ok: true, header: { columns, width: fields.length } };
}

const SOURCE_WORDS: Record<string, Source> = {
  letter: 'letter',
  来信: 'letter',
  信件: 'letter',
  walkin: 'walkin',
  'walk-in': 'walkin',
  来访: 'walkin',
  走访: 'walkin',
};
const YES = new Set(['true', 'yes', 'y', '1', '是', '匿名']);
const NO = new Set(['', 'false', 'no', 'n', '0', '否']);

export type RowResult =
  | { ok: true; ref: string; submission: AgentSubmission }
  | { ok: false; ref?: string; code: string; message: string };

/** A name-based UUID (RFC 9562 v5 layout, SHA-1) so a walk-in row gets the same client id on every run. */
export function stableUuid(name: string): string {
  const h = createHash('sha1').update(`cityloop-import:${name}`).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * One data row → a submission for `POST /api/agent/reports`, or why not. The server validates again (phone format,
 * lengths ...); this catches what is clearer to say about a spreadsheet row.
 */
export function rowToSubmission(fields: string[], header: CsvHeader, defaultSource: Source = 'letter'): RowResult {
  const get = (c: CsvColumn): string => {
    const idx = header.columns[c];
    return idx === undefined ? '' : (fields[idx] ?? '').trim();
  };
  const ref = get('ref') || undefined;
  const fail = (code: string, message: string): RowResult => ({ ok: false, ...(ref ? { ref } : {}), code, message });
  if (fields.length !== header.width) {
    return fail(
      'CSV_FIELD_COUNT',
      `有 ${fields.length} 列，表头有 ${header.width} 列（内容中的逗号或换行需加引号）has ${fields.length} fields, the header has ${header.width}`,
    );
  }
  if (fields.some((f) => f.includes('\uFFFD'))) {
    return fail('INVALID_ENCODING', '含有无法识别的字符（文件编码损坏）undecodable bytes in this row');
  }
  if (!ref) return fail('REF_REQUIRED', '缺少编号 the ref (letter/registration number) is empty');
  const text = get('text');
  if (!text) return fail('TEXT_REQUIRED', '诉求内容为空 the text is empty');
  const sourceWord = get('source').toLowerCase();
  const source = sourceWord === '' ? defaultSource : SOURCE_WORDS[sourceWord];
  if (!source) return fail('INVALID_SOURCE', `来源应为 来信 或 来访 source must be letter or walkin: ${get('source')}`);
  const natureWord = get('nature');
  if (natureWord && !(NATURES as readonly string[]).includes(natureWord)) {
    return fail('INVALID_NATURE', `诉求性质应为 ${NATURES.join('/')} nature must be one of them: ${natureWord}`);
  }
  const anon = get('anonymous').toLowerCase();
  if (!YES.has(anon) && !NO.has(anon))
    return fail('INVALID_ANONYMOUS', `匿名 应为 是/否 anonymous must be yes/no: ${anon}`);
  const anonymous = YES.has(anon);
  const phone = get('phone');
  const email = get('email');
  if (!phone && !email && !anonymous) {
    return fail('NO_CONTACT', '需要电话或邮箱，或注明匿名 a phone or email is needed, or anonymous = 是');
  }
  const citizen: Record<string, unknown> = {};
  if (get('name')) citizen.name = get('name');
  if (phone) citizen.phone = phone;
  if (email) citizen.email = email;
  if (anonymous) citizen.anonymous = true;
  const submission: AgentSubmission = {
    source,
    ...(source === 'letter' ? { ref } : { clientId: stableUuid(ref) }),
    citizen,
    text,
    ...(get('title') ? { title: get('title') } : {}),
    ...(get('address') ? { location: { address: get('address') } } : {}),
    ...(natureWord ? { nature: natureWord as Nature } : {}),
    ...(get('category') ? { category: get('category') } : {}),
    ...(get('receivedAt') && source === 'letter' ? { receivedAt: get('receivedAt') } : {}),
  };
  return { ok: true, ref, submission };
}
