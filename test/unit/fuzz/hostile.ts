/**
 * Hostile input for every channel parser: scripts, control characters, bidi overrides, zero-width and 4-byte
 * characters, lone surrogates, invalid UTF-8, size bombs around each limit, deep nesting. `RUNS` is the budget of each
 * property (short in `npm test`; `npm run soak` raises it with CITYLOOP_FUZZ_RUNS) and `countCases` records how many
 * cases each parser saw, for the soak's table (CITYLOOP_FUZZ_COUNTS names a JSON-lines file).
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { IntakeRequest } from '#core/intake/schema.ts';

export const RUNS = Number(process.env.CITYLOOP_FUZZ_RUNS ?? 150);

export function countCases(parser: string, cases: number): void {
  const file = process.env.CITYLOOP_FUZZ_COUNTS;
  if (file) appendFileSync(file, `${JSON.stringify({ parser, cases })}\n`);
}

/** Pieces attackers and broken clients send. */
export const NASTY = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'; DROP TABLE cases; --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, literally
  '{{7*7}}${7*7}',
  '\u202Egnp.exe',
  '\u200B\u200C\u200D\u2060\uFEFF',
  '\u0000\u0001\u0007\u001B[31m\u007F\u0085',
  '\r\n\r\nX-Injected: 1',
  '😀🀄👩‍👩‍👧‍👦𠀀𪚥',
  '\uD800',
  '\uDFFF\uD800',
  '../../../../etc/passwd',
  '%00%0d%0a',
  '&lt;&#x3C;&#60;&amp;',
  '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
  '<![CDATA[ ]]> ]]>',
  '__proto__',
  'constructor',
  '１３９１２３４５６７８',
  'ＡＢＣ＠ｅｘａｍｐｌｅ．ｃｏｍ',
  '\u3000\u00A0\t',
  'حمل\u200Fשלום',
] as const;

/** A short hostile string: a mix of nasty pieces, Chinese text and arbitrary code points. */
export const hostileText = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
      { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
      { weight: 2, arbitrary: fc.constantFrom('路灯不亮', '和平路88号', '噪音扰民', '13800138000', 'a@b.cn', '市民') },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

/** Strings around the size limits: empty, at the limit, just over, far over. */
export function sizeBomb(limit: number) {
  return fc
    .tuple(fc.constantFrom(0, 1, limit - 1, limit, limit + 1, limit * 4), fc.constantFrom('长', 'a', '😀', ' '))
    .map(([n, ch]) => ch.repeat(n));
}

/** JSON nested `depth` levels deep, as text (arrays or objects). */
export const deepJson = fc
  .tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

/** Bytes that are not valid UTF-8 (overlong forms, lone continuation bytes, surrogates encoded, truncated). */
export const invalidUtf8 = fc
  .tuple(
    fc.uint8Array({ max: 0x7f, maxLength: 40 }),
    fc.constantFrom(
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0x80],
      [0xff, 0xfe],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe4, 0xb8],
    ),
  )
  .map(([prefix, bad]) => Buffer.concat([Buffer.from(prefix), Buffer.from(bad)]));

const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069\uFEFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What every accepted report must be: the one form, valid, with no control, bidi-override or lone surrogates. */
export function assertCleanIntake(request: unknown): void {
  const parsed = IntakeRequest.safeParse(request);
  if (!parsed.success) throw new Error(`not a valid IntakeRequest: ${JSON.stringify(parsed.error.issues)}`);
  const r = parsed.data;
  for (const [field, value] of [
    ['title', r.title],
    ['text', r.text],
    ['address', r.location?.address],
    ['name', r.citizen.name],
  ] as const) {
    if (value !== undefined && UNSAFE.test(value))
      throw new Error(`${field} keeps unsafe characters: ${JSON.stringify(value)}`);
  }
}

/** A refusal must be a coded 4xx, never a crash. */
export function assertClean4xx(e: unknown): void {
  const err = e as { code?: unknown; status?: unknown; name?: string; message?: string };
  if (typeof err?.code !== 'string' || !/^[A-Z][A-Z0-9_]+$/.test(err.code)) {
    throw new Error(`not a coded error: ${err?.name}: ${err?.message}`);
  }
  if (typeof err.status !== 'number' || err.status < 400 || err.status >= 500) {
    throw new Error(`${err.code} answered ${String(err.status)}, not a 4xx`);
  }
}
