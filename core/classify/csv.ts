/**
 * RFC 4180 CSV for labelled training data: quoted fields with commas, doubled quotes and newlines, CRLF or LF,
 * an optional UTF-8 BOM. Input must be UTF-8: GBK/GB18030 exports (common from Chinese office tools) are detected as
 * invalid UTF-8 and refused with a clear error instead of being read as mojibake.
 */
import { CityLoopError } from '#core/errors.ts';

export type CsvErrorCode =
  | 'CSV_INVALID_ENCODING'
  | 'CSV_EMPTY'
  | 'CSV_UNTERMINATED_QUOTE'
  | 'CSV_BAD_QUOTE'
  | 'CSV_MISSING_COLUMN'
  | 'CSV_EMPTY_LABEL'
  | 'CSV_EMPTY_TEXT'
  | 'CSV_TOO_FEW_CLASSES';

export function csvError(code: CsvErrorCode, message: string, details?: unknown): CityLoopError {
  return new CityLoopError(code, message, 400, details);
}

/** Offset of the first byte that is not valid UTF-8, or -1 (overlongs, surrogates and > U+10FFFF are invalid). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Decodes bytes as strict UTF-8; throws `CSV_INVALID_ENCODING` with the first bad byte offset. */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    throw csvError(
      'CSV_INVALID_ENCODING',
      `文件不是有效的 UTF-8 编码（第 ${bad} 字节），如为 GBK/GB18030 请先转换为 UTF-8 (file is not valid UTF-8 at byte ${bad}; convert GBK/GB18030 to UTF-8 first)`,
      { offset: bad },
    );
  }
  return new TextDecoder('utf-8').decode(bytes);
}

/** Parses CSV text into rows of fields. Throws on an unterminated quoted field or a stray quote. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let line = 1;
  const n = text.length;
  let atFieldStart = true;
  while (i < n) {
    const ch = text.charCodeAt(i);
    if (atFieldStart && ch === 34 /* " */) {
      const startLine = line;
      i++;
      let closed = false;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 34) {
          if (text.charCodeAt(i + 1) === 34) {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (c === 10) line++;
        // Copy a run of ordinary characters at once.
        let j = i + 1;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === 34 || d === 10) break;
          j++;
        }
        field += text.slice(i, j);
        i = j;
      }
      if (!closed)
        throw csvError(
          'CSV_UNTERMINATED_QUOTE',
          `第 ${startLine} 行的引号字段没有结束 (unterminated quoted field from line ${startLine})`,
          { line: startLine },
        );
      const next = text.charCodeAt(i);
      if (i < n && next !== 44 && next !== 10 && next !== 13) {
        throw csvError(
          'CSV_BAD_QUOTE',
          `第 ${line} 行引号字段后有多余字符 (unexpected character after a quoted field on line ${line})`,
          { line },
        );
      }
      atFieldStart = false;
      continue;
    }
    if (ch === 44 /* , */) {
      row.push(field);
      field = '';
      atFieldStart = true;
      i++;
      continue;
    }
    if (ch === 13 || ch === 10) {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      atFieldStart = true;
      i += ch === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      line++;
      continue;
    }
    let j = i + 1;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d === 44 || d === 10 || d === 13) break;
      if (d === 34)
        throw csvError(
          'CSV_BAD_QUOTE',
          `第 ${line} 行未加引号的字段中有引号 (bare quote in an unquoted field on line ${line})`,
          { line },
        );
      j++;
    }
    field += text.slice(i, j);
    i = j;
    atFieldStart = false;
  }
  if (!atFieldStart || field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  // Drop fully empty lines (e.g. a trailing blank line).
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

export interface LabelledRow {
  text: string;
  label: string;
}

export interface ReadLabelledOptions {
  textColumn?: string;
  labelColumn?: string;
  /** Minimum number of distinct labels (training needs 2). */
  minClasses?: number;
}

/**
 * Reads labelled rows from CSV bytes: strict UTF-8, a header row with the text and label columns, every row with a
 * non-empty label and text. Errors carry codes (`CSV_MISSING_COLUMN`, `CSV_EMPTY_LABEL`, ...) and the line number.
 */
export function readLabelledCsv(bytes: Uint8Array, opts: ReadLabelledOptions = {}): LabelledRow[] {
  const textColumn = opts.textColumn ?? 'text';
  const labelColumn = opts.labelColumn ?? 'label';
  let text = decodeUtf8Strict(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows = parseCsv(text);
  const header = rows[0];
  if (!header || rows.length < 2) throw csvError('CSV_EMPTY', '文件没有数据行 (no data rows)');
  const cols = header.map((h) => h.trim());
  const ti = cols.indexOf(textColumn);
  const li = cols.indexOf(labelColumn);
  const missing = [ti < 0 ? textColumn : undefined, li < 0 ? labelColumn : undefined].filter(Boolean);
  if (missing.length > 0) {
    throw csvError(
      'CSV_MISSING_COLUMN',
      `缺少列 ${missing.join(', ')}（现有列：${cols.join(', ')}） (missing column ${missing.join(', ')})`,
      {
        missing,
        columns: cols,
      },
    );
  }
  const out: LabelledRow[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r] ?? [];
    const label = (row[li] ?? '').trim();
    const t = (row[ti] ?? '').trim();
    if (label === '')
      throw csvError('CSV_EMPTY_LABEL', `第 ${r + 1} 条记录的标签为空 (empty label in record ${r + 1})`, {
        record: r + 1,
      });
    if (t === '')
      throw csvError('CSV_EMPTY_TEXT', `第 ${r + 1} 条记录的文本为空 (empty text in record ${r + 1})`, {
        record: r + 1,
      });
    out.push({ text: t, label });
  }
  const classes = new Set(out.map((x) => x.label)).size;
  if (classes < (opts.minClasses ?? 1)) {
    throw csvError(
      'CSV_TOO_FEW_CLASSES',
      `至少需要 ${opts.minClasses} 个不同的标签，只有 ${classes} 个 (need at least ${opts.minClasses} labels)`,
      { classes },
    );
  }
  return out;
}
