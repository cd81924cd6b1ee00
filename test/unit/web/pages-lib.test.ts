/** The pages' small helpers (web/src/lib): CSV export, times and countdowns, staff credentials, category help. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authHeaders, jwtExpiry, makeCredential } from '../../../web/src/lib/auth.ts';
import { csvCell, toCsv } from '../../../web/src/lib/csv.ts';
import { addDays, countdown, dateTime, days, dueLevel, pct, shanghaiToday } from '../../../web/src/lib/format.ts';
import { buildCatalog, type PagesTaxonomy, suggestCategories } from '../../../web/src/lib/taxonomy.ts';
import { ROOT } from '../../browser/build.ts';

const jwt = (payload: Record<string, unknown>) =>
  ['{"alg":"none"}', JSON.stringify(payload), ''].map((p) => Buffer.from(p).toString('base64url')).join('.');

describe('Module: web/src/lib/csv', () => {
  it('should quote what needs quoting and keep numbers as numbers', () => {
    // Act / Assess
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell(null)).toBe('');
  });

  it('should neutralise cells a spreadsheet would run as formulas', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvCell('+86138')).toBe("'+86138");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
  });

  it('should start with a BOM and end rows with CRLF, so Excel reads Chinese', () => {
    // Act
    const out = toCsv(['单位', '办结率'], [['城管', 99.5]]);
    // Assess
    expect(out).toBe('\uFEFF单位,办结率\r\n城管,99.5\r\n');
  });
});

describe('Module: web/src/lib/format', () => {
  const now = Date.parse('2025-10-01T12:00:00+08:00');

  it('should grade a deadline as ok, warn within a day, late once past', () => {
    expect(dueLevel('2025-10-03T12:00:00+08:00', now)).toBe('ok');
    expect(dueLevel('2025-10-02T11:00:00+08:00', now)).toBe('warn');
    expect(dueLevel('2025-10-01T11:59:00+08:00', now)).toBe('late');
    expect(dueLevel(null, now)).toBe('none');
    expect(dueLevel('not a date', now)).toBe('none');
  });

  it('should say the time left or overdue in words', () => {
    expect(countdown('2025-10-03T15:30:00+08:00', now)).toBe('剩余 2天3小时');
    expect(countdown('2025-10-01T13:05:00+08:00', now)).toBe('剩余 1小时5分');
    expect(countdown('2025-10-01T11:50:00+08:00', now)).toBe('超期 10分钟');
    expect(countdown(null, now)).toBe('无时限');
  });

  it('should show instants in Shanghai time, whatever the zone they were written in', () => {
    expect(dateTime('2025-10-01T16:05:00Z')).toBe('2025/10/02 00:05');
    expect(dateTime(null)).toBe('-');
    expect(shanghaiToday(Date.parse('2025-10-01T16:30:00Z'))).toBe('2025-10-02');
    expect(addDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(addDays('2025-03-01', -1)).toBe('2025-02-28');
  });

  it('should print rates and days, with a dash when there is nothing to judge', () => {
    expect(pct(0.96157)).toBe('96.2%');
    expect(pct(null)).toBe('–');
    expect(days(3.25)).toBe('3.3 天');
    expect(days(undefined)).toBe('–');
  });
});

describe('Module: web/src/lib/auth', () => {
  it('should send an API key as x-api-key and a token as a bearer', () => {
    expect(authHeaders(makeCredential('apikey', ' local-agent-001 '))).toEqual({ 'x-api-key': 'local-agent-001' });
    const token = jwt({ sub: 'a', exp: 2_000_000_000 });
    expect(authHeaders(makeCredential('bearer', `Bearer ${token}`))).toEqual({ authorization: `Bearer ${token}` });
    expect(authHeaders(undefined)).toEqual({});
  });

  it('should read the expiry of a JWT and nothing from other strings', () => {
    expect(jwtExpiry(jwt({ exp: 1_700_000_000 }))).toBe(1_700_000_000_000);
    expect(makeCredential('bearer', jwt({ exp: 1_700_000_000 })).expiresAt).toBe(1_700_000_000_000);
    expect(jwtExpiry('local-agent-001')).toBeUndefined();
    expect(jwtExpiry('a.!!!.c')).toBeUndefined();
  });
});

describe('Module: web/src/lib/taxonomy', () => {
  // Prepare: the same data the build writes to /data/taxonomy.json.
  const taxonomy = JSON.parse(readFileSync(join(ROOT, 'config/taxonomy.json'), 'utf8')) as PagesTaxonomy;
  const departments = JSON.parse(readFileSync(join(ROOT, 'config/departments.json'), 'utf8')).departments;
  const cat = buildCatalog({ ...taxonomy, departments });

  it('should suggest the category triage would pick, with its parent', () => {
    // Act
    const hints = suggestCategories(cat, '', '和平路88号门口的路灯坏了，晚上很黑');
    // Assess
    expect(hints[0]).toMatchObject({ code: 'SZ-01', name: '路灯照明', parentName: '市政设施' });
    expect(suggestCategories(cat, '', '好')).toEqual([]);
  });

  it('should list only fileable categories and name departments', () => {
    expect(cat.leaves.every((c) => c.department)).toBe(true);
    expect(cat.leaves.some((c) => c.code === 'SZ')).toBe(false);
    expect(cat.departmentName('chengguan')).toBe('区城市管理和综合执法局');
    expect(cat.departmentName(null)).toBe('-');
    expect(cat.categoryName('SZ-01')).toBe('路灯照明');
  });
});
