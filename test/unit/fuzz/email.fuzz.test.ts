/**
 * Fuzz: the email channel's MIME path (channels/email parseEmail → emailToIntake → normalizeIntake), with MIME
 * built from hostile parts: encoded-word headers in odd charsets, invalid UTF-8 and GB18030 bytes in bodies, HTML
 * with scripts, deep multipart nesting, many parts, truncated base64, size bombs. Every message is the clean one form
 * or a coded 4xx; nothing else escapes.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { emailToIntake } from '#channels/email/intake.ts';
import { parseEmail } from '#channels/email/parse.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import { assertClean4xx, assertCleanIntake, countCases, hostileText, invalidUtf8, RUNS } from './hostile.ts';

let cases = 0;
let accepted = 0;

const encodedWord = fc
  .tuple(
    fc.constantFrom('UTF-8', 'GB2312', 'GBK', 'GB18030', 'BIG5', 'x-unknown', 'ISO-8859-1'),
    fc.constantFrom('B', 'Q', 'X'),
    hostileText,
  )
  .map(
    ([cs, enc, t]) =>
      `=?${cs}?${enc}?${enc === 'B' ? Buffer.from(t).toString('base64') : [...Buffer.from(t)].map((b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')}?=`,
  );

const header = fc.oneof(
  hostileText.map((t) => t.replace(/[\r\n]/g, ' ')),
  encodedWord,
);

const body = fc.oneof(
  hostileText.map((t) => ({ type: 'text/plain; charset=utf-8', cte: '8bit', bytes: Buffer.from(t) })),
  hostileText.map((t) => ({
    type: 'text/html; charset=utf-8',
    cte: 'quoted-printable',
    bytes: Buffer.from(`<p onclick="x()">${t}</p><script>alert(1)</script>`),
  })),
  invalidUtf8.map((b) => ({ type: 'text/plain; charset=utf-8', cte: '8bit', bytes: b })),
  fc
    .uint8Array({ maxLength: 200 })
    .map((b) => ({ type: 'text/plain; charset=gb18030', cte: '8bit', bytes: Buffer.from(b) })),
  hostileText.map((t) => ({
    type: 'text/plain; charset=utf-8',
    cte: 'base64',
    bytes: Buffer.from(Buffer.from(t).toString('base64').slice(0, -3)),
  })),
  fc.uint8Array({ maxLength: 300 }).map((b) => ({
    type: 'image/png; name="a.png"',
    cte: 'base64',
    bytes: Buffer.from(Buffer.from(b).toString('base64')),
  })),
);

/** A MIME message: hostile headers, a tree of parts `depth` deep and `width` wide. */
const message = fc
  .record({
    from: fc.oneof(fc.constantFrom('市民 <citizen@example.com>', 'citizen@example.com', '<>', ''), header),
    subject: header,
    messageId: fc.oneof(fc.constant('<abc@example.com>'), header),
    depth: fc.integer({ min: 0, max: 30 }),
    width: fc.integer({ min: 1, max: 4 }),
    parts: fc.array(body, { minLength: 1, maxLength: 4 }),
    extra: fc.array(
      fc.tuple(fc.constantFrom('Reply-To', 'In-Reply-To', 'References', 'Auto-Submitted', 'X-Injected'), header),
      { maxLength: 3 },
    ),
  })
  .map((m) => {
    const leaf = (i: number) => {
      const p = m.parts[i % m.parts.length]!;
      return Buffer.concat([
        Buffer.from(`Content-Type: ${p.type}\r\nContent-Transfer-Encoding: ${p.cte}\r\n\r\n`),
        p.bytes,
        Buffer.from('\r\n'),
      ]);
    };
    let node = leaf(0);
    for (let d = 0; d < m.depth; d++) {
      const b = `b${d}x`;
      const children = Array.from({ length: d === 0 ? m.width : 1 }, (_, i) => (i === 0 ? node : leaf(i + d)));
      node = Buffer.concat([
        Buffer.from(`Content-Type: multipart/mixed; boundary="${b}"\r\n\r\n`),
        ...children.flatMap((c) => [Buffer.from(`--${b}\r\n`), c]),
        Buffer.from(`--${b}--\r\n`),
      ]);
    }
    const head = [
      `From: ${m.from}`,
      'To: 12345@example.gov.cn',
      `Subject: ${m.subject}`,
      `Message-ID: ${m.messageId}`,
      'MIME-Version: 1.0',
      ...m.extra.map(([k, v]) => `${k}: ${v}`),
    ].join('\r\n');
    return Buffer.concat([Buffer.from(`${head}\r\n`), node]);
  });

async function pipeline(raw: Buffer, opts: Parameters<typeof parseEmail>[1] = {}): Promise<void> {
  cases++;
  try {
    const parsed = await parseEmail(raw, { maxDepth: 20, maxParts: 60, timeoutMs: 5000, ...opts });
    const intake = emailToIntake(parsed, { receivedAt: '2025-11-28T10:00:00+08:00' });
    assertCleanIntake(normalizeIntake(intake.request as never));
    accepted++;
  } catch (e) {
    assertClean4xx(e);
  }
}

describe('Fuzz: email channel (MIME → IntakeRequest)', () => {
  afterAll(() => countCases('email (MIME → IntakeRequest)', cases));

  it('should turn any hostile MIME message into the clean one form or a coded 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(message, (raw) => pipeline(raw)),
      { numRuns: RUNS },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it('should refuse size bombs and nesting past the limits with a coded 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(message, fc.constantFrom({ maxBytes: 200 }, { maxDepth: 2 }, { maxParts: 2 }), (raw, opts) =>
        pipeline(raw, opts),
      ),
      { numRuns: Math.max(20, Math.floor(RUNS / 3)) },
    );
  });
});
