import { describe, expect, it } from 'vitest';
import { scanMime } from '#channels/email/mime-scan.ts';
import { parseEmail } from '#channels/email/parse.ts';
import { CityLoopError } from '#core/errors.ts';
import { base64Lines, encodedWord, message, multipart, part } from './mail-builder.ts';

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(60, 7)]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(60, 3)]);
const PDF = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n', 'latin1');
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(60, 0)]);

function attachment(name: string, type: string, bytes: Buffer, extra: string[] = []): Buffer {
  return part({
    headers: [
      `Content-Type: ${type}; name="${name}"`,
      `Content-Disposition: attachment; filename="${name}"`,
      'Content-Transfer-Encoding: base64',
      ...extra,
    ],
    body: base64Lines(bytes),
  });
}

function withAttachments(parts: Buffer[], text = '路灯坏了，附照片。'): Buffer {
  const mixed = multipart('mixed', 'b-mixed', [
    part({
      headers: ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'],
      body: Buffer.from(text),
    }),
    ...parts,
  ]);
  return message({ subject: encodedWord('路灯坏了', 'utf-8'), contentType: mixed.contentType, body: mixed.body });
}

async function errorOf(p: Promise<unknown>): Promise<CityLoopError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CityLoopError);
    return e as CityLoopError;
  }
  throw new Error('expected a CityLoopError');
}

/** A message nested `depth` multiparts deep. */
function nested(depth: number): Buffer {
  let inner = part({ headers: ['Content-Type: text/plain'], body: 'deep' });
  for (let d = depth; d >= 1; d--) {
    const mp = multipart('mixed', `b${d}`, [inner]);
    inner = d === 1 ? mp.body : part({ headers: [`Content-Type: ${mp.contentType}`], body: mp.body });
    if (d === 1) return message({ subject: 'deep', contentType: mp.contentType, body: inner });
  }
  return inner;
}

describe('Function: parseEmail (limits)', () => {
  it('should refuse a message over the size limit with BODY_TOO_LARGE before parsing', async () => {
    // Prepare
    const raw = message({ subject: 'big', contentType: 'text/plain', body: 'x'.repeat(2000) });
    // Act
    const err = await errorOf(parseEmail(raw, { maxBytes: 1000 }));
    // Assess
    expect(err.code).toBe('BODY_TOO_LARGE');
    expect(err.status).toBe(413);
  });

  it('should refuse a 50 MB message with the default limit', async () => {
    // Prepare
    const raw = Buffer.alloc(50 * 1024 * 1024, 0x61);
    // Act
    const err = await errorOf(parseEmail(raw));
    // Assess
    expect(err.code).toBe('BODY_TOO_LARGE');
  });

  it('should refuse MIME nested 100 deep with MIME_TOO_DEEP and accept 20 deep', async () => {
    // Prepare
    const deep = nested(100);
    const ok = nested(20);
    // Act
    const err = await errorOf(parseEmail(deep));
    const parsed = await parseEmail(ok);
    // Assess
    expect(err.code).toBe('MIME_TOO_DEEP');
    expect(parsed.mimeDepth).toBe(20);
    expect(parsed.text).toBe('deep');
  });

  it('should count embedded message/rfc822 levels as depth', () => {
    // Prepare
    let msg = 'Content-Type: text/plain\r\n\r\nhi\r\n';
    for (let i = 0; i < 30; i++) msg = `Content-Type: message/rfc822\r\n\r\n${msg}`;
    // Act
    const shape = scanMime(msg, { maxDepth: 100, maxParts: 100 });
    // Assess
    expect(shape.depth).toBe(30);
  });

  it('should refuse a message with neither body text nor subject with NO_TEXT', async () => {
    // Prepare
    const raw = message({ contentType: 'text/plain', body: '   \r\n\r\n' });
    // Act
    const err = await errorOf(parseEmail(raw));
    // Assess
    expect(err.code).toBe('NO_TEXT');
  });

  it('should accept a photo with only a subject (no body text)', async () => {
    // Prepare
    const mixed = multipart('mixed', 'b1', [attachment('IMG_0001.JPG', 'image/jpeg', JPEG)]);
    const raw = message({
      subject: encodedWord('井盖丢了', 'gb2312'),
      contentType: mixed.contentType,
      body: mixed.body,
    });
    // Act
    const parsed = await parseEmail(raw);
    // Assess
    expect(parsed.text).toBe('');
    expect(parsed.subject).toBe('井盖丢了');
    expect(parsed.attachments).toHaveLength(1);
  });
});

describe('Function: parseEmail (attachments)', () => {
  it('should keep allowed attachments with their bytes, and report oversize, forbidden and fake ones as rejected', async () => {
    // Prepare
    const big = Buffer.concat([JPEG, Buffer.alloc(3000, 1)]);
    const raw = withAttachments([
      attachment('现场.jpg', 'image/jpeg', JPEG),
      attachment('材料.pdf', 'application/pdf', PDF),
      attachment('huge.jpg', 'image/jpeg', big),
      attachment('setup.exe', 'application/x-msdownload', EXE),
      attachment('photo.jpg', 'image/jpeg', EXE),
      attachment('mislabelled.jpg', 'image/jpeg', PNG),
    ]);
    // Act
    const parsed = await parseEmail(raw, { maxAttachmentBytes: 2000 });
    // Assess
    expect(parsed.attachments.map((a) => [a.name, a.contentType, a.size])).toEqual([
      ['现场.jpg', 'image/jpeg', JPEG.length],
      ['材料.pdf', 'application/pdf', PDF.length],
      ['mislabelled.jpg', 'image/png', PNG.length],
    ]);
    expect(parsed.attachments[1]?.content.equals(PDF)).toBe(true);
    expect(parsed.attachments[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(parsed.rejectedAttachments.map((a) => [a.name, a.reason])).toEqual([
      ['huge.jpg', 'TOO_LARGE'],
      ['setup.exe', 'TYPE_NOT_ALLOWED'],
      ['photo.jpg', 'CONTENT_MISMATCH'],
    ]);
  });

  it('should keep at most maxAttachments and report the rest as TOO_MANY', async () => {
    // Prepare
    const raw = withAttachments(Array.from({ length: 12 }, (_, i) => attachment(`p${i}.jpg`, 'image/jpeg', JPEG)));
    // Act
    const parsed = await parseEmail(raw);
    // Assess
    expect(parsed.attachments).toHaveLength(9);
    expect(parsed.rejectedAttachments.map((a) => a.reason)).toEqual(['TOO_MANY', 'TOO_MANY', 'TOO_MANY']);
  });

  it('should mark inline images of an HTML mail and give a nameless one a name', async () => {
    // Prepare
    const related = multipart('related', 'b-rel', [
      part({
        headers: ['Content-Type: text/html; charset=utf-8'],
        body: '<p>井盖丢了</p><img src="cid:img1@x">',
      }),
      part({
        headers: ['Content-Type: image/png', 'Content-ID: <img1@x>', 'Content-Transfer-Encoding: base64'],
        body: base64Lines(PNG),
      }),
    ]);
    const raw = message({ subject: 'inline', contentType: related.contentType, body: related.body });
    // Act
    const parsed = await parseEmail(raw);
    // Assess
    expect(parsed.text).toBe('井盖丢了');
    expect(parsed.attachments).toEqual([
      expect.objectContaining({ name: '附件1.png', contentType: 'image/png', inline: true, contentId: 'img1@x' }),
    ]);
  });

  it('should strip path parts from an attachment name, and read an undeclared GBK name', async () => {
    // Prepare: a raw 8-bit GBK file name, no RFC 2231 or RFC 2047 encoding
    const gbkName = part({
      headers: ['Content-Type: image/jpeg', 'Content-Transfer-Encoding: base64'],
      body: base64Lines(JPEG),
    });
    const header = Buffer.concat([
      Buffer.from('Content-Disposition: attachment; filename="'),
      Buffer.from([0xcf, 0xd6, 0xb3, 0xa1]),
      Buffer.from('.jpg"\r\n'),
    ]);
    const raw = withAttachments([
      attachment('../../etc/evil.jpg', 'image/jpeg', JPEG),
      Buffer.concat([header, gbkName]),
    ]);
    // Act
    const parsed = await parseEmail(raw);
    // Assess
    expect(parsed.attachments.map((a) => a.name)).toEqual(['evil.jpg', '现场.jpg']);
  });
});

describe('Function: parseEmail (headers)', () => {
  it('should read threading ids in <...> form', async () => {
    // Prepare
    const raw = message({
      subject: 'Re: x',
      messageId: '<m2@qq.com>',
      extraHeaders: ['In-Reply-To: <ack.1@cityloop.local>', 'References: <m0@qq.com>\r\n <ack.1@cityloop.local>'],
      contentType: 'text/plain',
      body: 'hi',
    });
    // Act
    const parsed = await parseEmail(raw);
    // Assess
    expect(parsed.messageId).toBe('<m2@qq.com>');
    expect(parsed.inReplyTo).toEqual(['<ack.1@cityloop.local>']);
    expect(parsed.references).toEqual(['<m0@qq.com>', '<ack.1@cityloop.local>']);
    expect(parsed.date).toBe('2025-11-28T02:00:00.000Z');
  });

  it.each([
    ['Auto-Submitted: auto-replied', 'AUTO_SUBMITTED'],
    ['Precedence: bulk', 'PRECEDENCE'],
    ['Precedence: junk', 'PRECEDENCE'],
    ['List-Id: <news.example.com>', 'LIST'],
    ['Return-Path: <>', 'NULL_RETURN_PATH'],
    ['X-Autoreply: yes', 'AUTO_REPLY_HEADER'],
  ])('should flag machine-written mail: %s', async (header, reason) => {
    // Prepare
    const raw = message({ subject: 'x', extraHeaders: [header], contentType: 'text/plain', body: 'hi' });
    // Act
    const parsed = await parseEmail(raw);
    // Assess
    expect(parsed.autoGenerated).toBe(true);
    expect(parsed.loop.reasons).toContain(reason);
  });

  it('should flag MAILER-DAEMON senders, multipart/report bounces and 自动回复 subjects, but not Auto-Submitted: no', async () => {
    // Prepare
    const report = multipart('report', 'b-rep', [part({ headers: ['Content-Type: text/plain'], body: 'failed' })]);
    const bounce = message({
      from: 'MAILER-DAEMON@mx.example.com',
      subject: 'Undelivered Mail Returned to Sender',
      contentType: `${report.contentType}; report-type=delivery-status`,
      body: report.body,
    });
    const autoReply = message({
      subject: encodedWord('自动回复：我正在休假', 'gbk'),
      contentType: 'text/plain',
      body: 'x',
    });
    const human = message({ subject: 'x', extraHeaders: ['Auto-Submitted: no'], contentType: 'text/plain', body: 'x' });
    // Act
    const [b, a, h] = await Promise.all([parseEmail(bounce), parseEmail(autoReply), parseEmail(human)]);
    // Assess
    expect(b.loop.reasons).toEqual(expect.arrayContaining(['MAILER_DAEMON', 'REPORT']));
    expect(a.loop.reasons).toEqual(['AUTO_REPLY_SUBJECT']);
    expect(h.autoGenerated).toBe(false);
  });

  it('should note X-Auto-Response-Suppress without calling the mail machine-written', async () => {
    // Prepare
    const raw = message({
      subject: 'x',
      extraHeaders: ['X-Auto-Response-Suppress: All'],
      contentType: 'text/plain',
      body: 'x',
    });
    // Act
    const parsed = await parseEmail(raw);
    // Assess
    expect(parsed.autoGenerated).toBe(false);
    expect(parsed.loop.suppressAutoResponse).toBe(true);
  });
});
