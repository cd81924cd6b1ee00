import { describe, expect, it } from 'vitest';
import { classifyCharset, decodeText } from '#channels/email/charset.ts';
import { decodeHeaderValue } from '#channels/email/headers.ts';
import { parseEmail } from '#channels/email/parse.ts';
import { base64Lines, enc, encodedWord, message, multipart, part, quotedPrintable, rfc2231 } from './mail-builder.ts';

const SIMPLIFIED = {
  subject: '关于幸福里小区夜间施工噪音的投诉',
  body: '您好：\r\n幸福里小区3栋旁边的工地每天晚上十点以后还在施工，噪音很大，老人孩子都无法休息。\r\n请有关部门尽快处理，谢谢！\r\n张三',
  name: '张三',
  file: '现场照片.jpg',
};
const TRADITIONAL = {
  subject: '關於幸福里社區夜間施工噪音的投訴',
  body: '您好：\r\n幸福里社區3棟旁邊的工地每天晚上十點以後還在施工，噪音很大，老人孩子都無法休息。\r\n請有關部門盡快處理，謝謝！\r\n陳大文',
  name: '陳大文',
  file: '現場照片.jpg',
};
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00]);

const crlf = (s: string) => s.replace(/\r\n/g, '\n');

describe('Function: classifyCharset', () => {
  it('should map GB and Big5 aliases to their superset decoders', () => {
    // Prepare
    const gb = ['GB2312', 'gb_2312-80', 'x-gbk', 'GBK', 'cp936', 'euc-cn', '"gb18030"', 'charset=GB2312'];
    const big5 = ['Big5', 'big5-hkscs', 'x-x-big5', 'cp950'];
    // Act
    const gbKinds = gb.map((l) => classifyCharset(l));
    const big5Kinds = big5.map((l) => classifyCharset(l));
    // Assess
    for (const k of gbKinds) expect(k).toMatchObject({ kind: 'gb18030', name: 'gb18030' });
    for (const k of big5Kinds) expect(k).toMatchObject({ kind: 'big5', name: 'big5hkscs' });
    expect(classifyCharset('us-ascii').kind).toBe('none');
    expect(classifyCharset(undefined).kind).toBe('none');
    expect(classifyCharset('fakescii').kind).toBe('unknown');
    expect(classifyCharset('utf-7').kind).toBe('unknown');
    expect(classifyCharset('koi8-r')).toMatchObject({ kind: 'other', name: 'koi8-r' });
  });
});

describe('Function: decodeText', () => {
  const sentences = [
    SIMPLIFIED.body,
    '路灯坏了三天了，晚上出行很不安全。',
    '下水道堵塞，污水漫到人行道上，臭味很大。',
    '建议在学校门口增设斑马线和红绿灯。',
    '小区物业乱收停车费，请相关部门查处。',
  ];
  const traditional = [
    TRADITIONAL.body,
    '路燈壞了三天了，晚上出行很不安全。',
    '下水道堵塞，污水漫到人行道上，臭味很大。',
    '建議在學校門口增設斑馬線和紅綠燈。',
    '社區物業亂收停車費，請相關部門查處。',
  ];

  it('should read GBK, GB18030 and Big5 text under every wrong or missing label', () => {
    // Prepare
    const cases: [string, string][] = [
      ...sentences.flatMap((s) => ['gbk', 'gb18030', 'gb2312'].map((c) => [s, c] as [string, string])),
      ...traditional.map((s) => [s, 'big5'] as [string, string]),
    ];
    const labels = [undefined, 'us-ascii', 'utf-8', 'fakescii', 'iso-8859-1'];
    // Act
    const misses = cases.flatMap(([text, charset]) =>
      labels
        .filter((label) => decodeText(enc(text, charset), label).text !== text)
        .map((l) => `${charset}/${l}: ${text}`),
    );
    // Assess
    expect(misses).toEqual([]);
  });

  it('should decode GBK characters outside GB2312 under a GB2312 label, and GB18030 four-byte characters', () => {
    // Prepare: 镕 and 堃 are GBK-only; 𠀀 and € need GB18030's four-byte form
    const text = '朱镕基 王堃 𠀀 价格10€';
    // Act
    const decoded = decodeText(enc(text, 'gb18030'), 'GB2312');
    // Assess
    expect(decoded.text).toBe(text);
    expect(decoded.charset).toBe('gb18030');
  });

  it('should keep valid UTF-8 under a GB label, and Latin-1 under a missing label', () => {
    // Prepare
    const utf8 = Buffer.from('您好，路灯坏了', 'utf8');
    const latin = enc('Grüße aus München, schöne Straße', 'latin1');
    // Act
    const a = decodeText(utf8, 'gb2312');
    const b = decodeText(latin, undefined);
    // Assess
    expect(a).toEqual({ text: '您好，路灯坏了', charset: 'utf-8', detected: true });
    expect(b.text).toBe('Grüße aus München, schöne Straße');
    expect(b.charset).toBe('windows-1252');
  });

  it('should respect a Cyrillic label it cannot score', () => {
    // Prepare
    const text = 'Привет, мир';
    // Act
    const decoded = decodeText(enc(text, 'koi8-r'), 'koi8-r');
    // Assess
    expect(decoded).toEqual({ text, charset: 'koi8-r', detected: false });
  });
});

describe('Function: decodeHeaderValue', () => {
  it('should decode encoded words in GB2312, GBK, GB18030 and Big5, B and Q', () => {
    // Prepare
    const cases = [
      [encodedWord(SIMPLIFIED.subject, 'GB2312'), SIMPLIFIED.subject],
      [encodedWord(SIMPLIFIED.subject, 'GBK', 'Q'), SIMPLIFIED.subject],
      [encodedWord('朱镕基', 'gb2312'), '朱镕基'],
      [encodedWord(TRADITIONAL.subject, 'Big5'), TRADITIONAL.subject],
      [`Re: ${encodedWord('回复', 'x-gbk')} ${encodedWord('路灯', 'x-gbk')}`, 'Re: 回复路灯'],
    ];
    // Act
    const decoded = cases.map(([raw]) => decodeHeaderValue(raw as string));
    // Assess
    expect(decoded).toEqual(cases.map(([, want]) => want));
  });

  it('should join a character split across two encoded words', () => {
    // Prepare: 噪 is two GBK bytes; cut between them
    const bytes = enc('噪音投诉', 'gbk');
    const raw = `=?GB2312?B?${bytes.subarray(0, 1).toString('base64')}?= =?GB2312?B?${bytes.subarray(1).toString('base64')}?=`;
    // Act
    const decoded = decodeHeaderValue(raw);
    // Assess
    expect(decoded).toBe('噪音投诉');
  });

  it('should survive broken encoded words: missing ?=, unknown charset, mislabelled charset', () => {
    // Prepare
    const gbk = enc('路灯坏了', 'gbk').toString('base64');
    const big5 = enc('路燈壞了很久', 'big5').toString('base64');
    // Act
    const missingEnd = decodeHeaderValue(`=?gb2312?B?${gbk}`);
    const unknown = decodeHeaderValue(`=?x-unknown?B?${gbk}?=`);
    const mislabelled = decodeHeaderValue(`=?us-ascii?B?${big5}?=`);
    const garbage = decodeHeaderValue('=?gb2312?B?@@@@?= 正常');
    // Assess
    expect(missingEnd).toBe('路灯坏了');
    expect(unknown).toBe('路灯坏了');
    expect(mislabelled).toBe('路燈壞了很久');
    expect(typeof garbage).toBe('string');
  });

  it('should decode raw 8-bit GBK and Big5 header bytes', () => {
    // Prepare: the parser hands header lines over one char per byte
    const gbk = enc(SIMPLIFIED.subject, 'gbk').toString('latin1');
    const big5 = enc(TRADITIONAL.subject, 'big5').toString('latin1');
    // Act & Assess
    expect(decodeHeaderValue(gbk)).toBe(SIMPLIFIED.subject);
    expect(decodeHeaderValue(big5)).toBe(TRADITIONAL.subject);
  });
});

describe('Function: parseEmail (Chinese charsets)', () => {
  const variants = [
    { charset: 'gb2312', label: 'GB2312', text: SIMPLIFIED },
    { charset: 'gbk', label: 'x-gbk', text: SIMPLIFIED },
    { charset: 'gbk', label: 'gb_2312-80', text: SIMPLIFIED },
    { charset: 'gb18030', label: 'GB18030', text: SIMPLIFIED },
    { charset: 'gbk', label: 'us-ascii', text: SIMPLIFIED },
    { charset: 'gbk', label: undefined, text: SIMPLIFIED },
    { charset: 'big5', label: 'Big5', text: TRADITIONAL },
    { charset: 'big5', label: 'us-ascii', text: TRADITIONAL },
    { charset: 'big5', label: undefined, text: TRADITIONAL },
  ];
  const encodings = ['base64', 'quoted-printable', '8bit'] as const;

  for (const v of variants) {
    for (const cte of encodings) {
      it(`should read a ${v.charset} body labelled ${v.label ?? '(none)'} in ${cte}`, async () => {
        // Prepare
        const bytes = enc(v.text.body, v.charset);
        const body =
          cte === 'base64' ? base64Lines(bytes) : cte === 'quoted-printable' ? quotedPrintable(bytes) : bytes;
        const raw = message({
          from: `${encodedWord(v.text.name, v.charset === 'big5' ? 'Big5' : 'GB2312')} <citizen@qq.com>`,
          subject: encodedWord(v.text.subject, v.charset, 'B', v.label ?? v.charset),
          contentType: `text/plain${v.label ? `; charset="${v.label}"` : ''}`,
          transferEncoding: cte,
          body,
        });
        // Act
        const parsed = await parseEmail(raw);
        // Assess
        expect(parsed.subject).toBe(v.text.subject);
        expect(parsed.text).toBe(crlf(v.text.body));
        expect(parsed.from).toEqual({ address: 'citizen@qq.com', name: v.text.name });
      });
    }
  }

  it('should read a raw 8-bit GBK subject and sender name with no encoding at all', async () => {
    // Prepare
    const raw = Buffer.concat([
      Buffer.from('From: '),
      enc('张三', 'gbk'),
      Buffer.from(' <zs@163.com>\r\nSubject: '),
      enc(SIMPLIFIED.subject, 'gbk'),
      Buffer.from('\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'),
      enc(SIMPLIFIED.body, 'gbk'),
    ]);
    // Act
    const parsed = await parseEmail(raw);
    // Assess
    expect(parsed.subject).toBe(SIMPLIFIED.subject);
    expect(parsed.from).toEqual({ address: 'zs@163.com', name: '张三' });
    expect(parsed.text).toBe(crlf(SIMPLIFIED.body));
  });

  it('should read an HTML-only GBK mail (charset in a meta tag only) as text with line breaks', async () => {
    // Prepare
    const html = `<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><style>p{color:red}</style></head><body><p>您好：</p><div>路灯坏了&nbsp;三天，<b>晚上</b>很黑。</div>地点：幸福路<br>12号<script>alert(1)</script></body></html>`;
    const raw = message({
      subject: encodedWord('路灯坏了', 'GB2312'),
      contentType: 'text/html',
      transferEncoding: 'base64',
      body: base64Lines(enc(html, 'gbk')),
    });
    // Act
    const parsed = await parseEmail(raw);
    // Assess
    expect(parsed.textSource).toBe('html');
    expect(parsed.text).toBe('您好：\n\n路灯坏了 三天，晚上很黑。\n地点：幸福路\n12号');
  });

  it('should read multipart/alternative with GBK text and HTML, and a GB2312-named image attachment (RFC 2231 and RFC 2047)', async () => {
    // Prepare
    const alt = multipart('alternative', 'alt-1', [
      part({
        headers: ['Content-Type: text/plain; charset=GBK', 'Content-Transfer-Encoding: quoted-printable'],
        body: quotedPrintable(enc(SIMPLIFIED.body, 'gbk')),
      }),
      part({
        headers: ['Content-Type: text/html; charset=GBK', 'Content-Transfer-Encoding: base64'],
        body: base64Lines(enc(`<div>${SIMPLIFIED.body}</div>`, 'gbk')),
      }),
    ]);
    const mixed = multipart('mixed', 'mix-1', [
      part({ headers: [`Content-Type: ${alt.contentType}`], body: alt.body }),
      part({
        headers: [
          'Content-Type: image/jpeg',
          `Content-Disposition: attachment; filename*=${rfc2231(SIMPLIFIED.file, 'GB2312')}`,
          'Content-Transfer-Encoding: base64',
        ],
        body: base64Lines(JPEG),
      }),
      part({
        headers: [
          `Content-Type: image/jpeg; name="${encodedWord(TRADITIONAL.file, 'Big5')}"`,
          `Content-Disposition: attachment; filename="${encodedWord(TRADITIONAL.file, 'Big5')}"`,
          'Content-Transfer-Encoding: base64',
        ],
        body: base64Lines(JPEG),
      }),
    ]);
    const raw = message({
      subject: encodedWord(SIMPLIFIED.subject, 'gb2312'),
      contentType: mixed.contentType,
      body: mixed.body,
    });
    // Act
    const parsed = await parseEmail(raw);
    // Assess
    expect(parsed.text).toBe(crlf(SIMPLIFIED.body));
    expect(parsed.attachments.map((a) => [a.name, a.contentType, a.size])).toEqual([
      [SIMPLIFIED.file, 'image/jpeg', JPEG.length],
      [TRADITIONAL.file, 'image/jpeg', JPEG.length],
    ]);
    expect(parsed.attachments[0]?.content.equals(JPEG)).toBe(true);
  });
});
