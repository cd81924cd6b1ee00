/**
 * Random bytes and mutated real mail never crash the email channel: parseEmail and emailToIntake either give a result
 * or throw a CityLoopError with a code; the pure helpers never throw at all.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeText } from '#channels/email/charset.ts';
import { decodeHeaderValue } from '#channels/email/headers.ts';
import { htmlToText } from '#channels/email/html.ts';
import { emailToIntake } from '#channels/email/intake.ts';
import { parseEmail } from '#channels/email/parse.ts';
import { stripReply } from '#channels/email/strip.ts';
import { CityLoopError } from '#core/errors.ts';

const ROOT = join(import.meta.dirname, '../../../../shared/data/email');
const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
const FIXTURES = walk(ROOT)
  .map((f) => readFileSync(f))
  .filter((b) => b.length < 20_000);

/** Runs the whole pure pipeline; resolves to the error code or 'ok'; anything but a CityLoopError fails the property. */
async function pipeline(raw: Uint8Array): Promise<string> {
  try {
    const parsed = await parseEmail(raw, { maxDepth: 8, maxParts: 60 });
    emailToIntake(parsed, { receivedAt: '2025-11-28T10:00:00+08:00' });
    return 'ok';
  } catch (e) {
    if (e instanceof CityLoopError && /^[A-Z_]+$/.test(e.code)) return e.code;
    throw e;
  }
}

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'cut'; at: number }
  | { kind: 'dup'; from: number; len: number; to: number }
  | { kind: 'insert'; at: number; text: string };

const INSERTS = [
  '\r\n--',
  '\r\n\r\n',
  'Content-Type: multipart/mixed; boundary=x\r\n',
  '=?gb2312?B?',
  '?=',
  '=\r\n',
  '\x00',
  '\xff\xfe',
];

function mutate(base: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(base);
  for (const m of ms) {
    if (b.length === 0) break;
    if (m.kind === 'flip') b[m.at % b.length] = m.value;
    else if (m.kind === 'cut') b = b.subarray(0, m.at % (b.length + 1));
    else if (m.kind === 'dup') {
      const from = m.from % b.length;
      const slice = b.subarray(from, from + m.len);
      const to = m.to % b.length;
      b = Buffer.concat([b.subarray(0, to), slice, b.subarray(to)]);
    } else {
      const at = m.at % (b.length + 1);
      b = Buffer.concat([b.subarray(0, at), Buffer.from(m.text, 'latin1'), b.subarray(at)]);
    }
  }
  return b;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dup' as const), from: fc.nat(), len: fc.integer({ min: 1, max: 400 }), to: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...INSERTS) }),
);

describe('Fuzz: email channel', () => {
  it('should never crash on random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (bytes) => {
        expect(typeof (await pipeline(bytes))).toBe('string');
      }),
      { numRuns: 250 },
    );
  });

  it('should never crash on mutated real mail', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: FIXTURES.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        async (i, ms) => {
          expect(typeof (await pipeline(mutate(FIXTURES[i] as Buffer, ms)))).toBe('string');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('should never throw from the text helpers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.string({ maxLength: 300 }), (bytes, s) => {
        const latin = Buffer.from(bytes).toString('latin1');
        expect(typeof decodeText(bytes, s).text).toBe('string');
        expect(typeof decodeHeaderValue(`${latin} =?${s}?B?${latin}?= =?gbk?Q?${s}`)).toBe('string');
        expect(typeof htmlToText(`<div>${s}<${latin}</p>${s}`)).toBe('string');
        expect(typeof stripReply(`${s}\n${latin}\n> ${s}\n-- \n${s}`)).toBe('string');
      }),
      { numRuns: 400 },
    );
  });
});
