/**
 * The email parser as Lambda runs it: bundled with the options and stand-ins of infra/bundling.ts (mailparser's
 * html-to-text and linkify-it replaced, since parse.ts switches both off). Every fixture of ../shared/data/email and
 * hand-built mail on the paths those packages served (HTML-only, links in text, a forwarded message with HTML, GBK)
 * must parse exactly as unbundled.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_ALIASES } from '#infra/bundling.ts';
import { bundleLambda } from '#infra/bundling-build.ts';
import { enc, message, multipart, part, quotedPrintable } from './mail-builder.ts';
import { parseOutcome } from './parse-probe.ts';

const FIXTURES = join(import.meta.dirname, '../../../../shared/data/email');

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
}

/** Mail on the paths mailparser's HTML-to-text converter and linkifier would have served. */
function handBuilt(): Record<string, Buffer> {
  const html =
    '<html><body><p>和平路88号路灯不亮，<a href="https://example.cn/x">照片</a>见 www.example.cn</p></body></html>';
  const forwarded = message({
    subject: 'Fwd',
    ...multipart('alternative', 'inner', [
      part({ headers: ['Content-Type: text/plain; charset=utf-8'], body: '转发：井盖丢了 http://example.cn/a' }),
      part({ headers: ['Content-Type: text/html; charset=utf-8'], body: '<p>转发：<b>井盖丢了</b></p>' }),
    ]),
  } as never);
  return {
    'html-only.eml': message({ subject: 'HTML', contentType: 'text/html; charset=utf-8', body: html }),
    'links.eml': message({
      subject: 'links',
      contentType: 'text/plain; charset=utf-8',
      body: '请看 https://example.cn/photo?id=1 和 www.12345.gov.cn，邮箱 a@b.cn，@someone',
    }),
    'forwarded.eml': message({
      subject: '转发',
      ...multipart('mixed', 'outer', [
        part({ headers: ['Content-Type: text/html; charset=utf-8'], body: '<p>见附件中的原信</p>' }),
        part({ headers: ['Content-Type: message/rfc822', 'Content-Disposition: inline'], body: forwarded }),
      ]),
    } as never),
    'gbk-qp.eml': message({
      subject: 'GBK',
      contentType: 'text/html; charset=gbk',
      transferEncoding: 'quoted-printable',
      body: quotedPrintable(enc('<div>小区门口垃圾堆了三天，<a href="http://x.cn">详情</a></div>', 'gbk')),
    }),
  };
}

describe('Bundle: parseEmail with the Lambda stand-ins', () => {
  let dir = '';
  let files: string[] = [];
  let bundled = new Map<string, unknown>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cityloop-email-bundle-'));
    const built = Object.entries(handBuilt()).map(([name, raw]) => {
      const file = join(dir, name);
      writeFileSync(file, raw);
      return file;
    });
    files = [...walk(FIXTURES), ...built];
    const bundle = await bundleLambda('test/unit/email/parse-probe.ts', join(dir, 'probe', 'index.mjs'));
    const out = execFileSync(process.execPath, [bundle.file, ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
    bundled = new Map(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { file: string; outcome: unknown })
        .map((r) => [r.file, r.outcome]),
    );
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should build the parser with mailparser’s HTML converter and linkifier replaced', () => {
    // Assess
    expect(Object.keys(LAMBDA_ALIASES)).toEqual(expect.arrayContaining(['html-to-text', 'linkify-it']));
    const entry = readFileSync(join(dir, 'probe', 'index.mjs'), 'utf8');
    expect(entry).toContain('HTML_TO_TEXT_NOT_BUNDLED');
    expect(entry).toContain('LINKIFY_NOT_BUNDLED');
    // their own code is gone (an error message of each package)
    expect(entry).not.toContain('(LinkifyIt)');
    expect(entry).not.toContain('is not a table row');
  });

  it('should parse every mail exactly as the unbundled parser does', async () => {
    // Act & Assess
    expect(bundled.size).toBe(files.length);
    for (const file of files) {
      const here = JSON.parse(JSON.stringify(await parseOutcome(readFileSync(file))));
      expect({ file, outcome: bundled.get(file) }).toEqual({ file, outcome: here });
    }
    // the hand-built ones parsed (not refused), and no stand-in was reached
    for (const name of ['html-only.eml', 'links.eml', 'forwarded.eml', 'gbk-qp.eml']) {
      expect(bundled.get(join(dir, name))).not.toHaveProperty('error');
    }
    expect(JSON.stringify([...bundled.values()])).not.toMatch(/NOT_BUNDLED|uncoded/);
  });
});
