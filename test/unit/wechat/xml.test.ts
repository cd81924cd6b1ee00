import { describe, expect, it } from 'vitest';
import { buildXml, cdata, decodeEntities, parseXml, textField } from '#channels/wechat/xml.ts';
import { CityLoopError } from '#core/errors.ts';

function rejection(fn: () => unknown): CityLoopError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CityLoopError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

const TEXT_PUSH = `<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>
<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>
<CreateTime>1409735668</CreateTime>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[路灯坏了 & <不亮>]]></Content>
<MsgId>6054768590064713728</MsgId>
</xml>`;

describe('Function: parseXml', () => {
  it('should return the root fields as strings, keeping 64-bit ids intact', () => {
    // Act
    const fields = parseXml(TEXT_PUSH);

    // Assess
    expect(fields).toEqual({
      ToUserName: 'gh_10f6c3c3ac5a',
      FromUserName: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
      CreateTime: '1409735668',
      MsgType: 'text',
      Content: '路灯坏了 & <不亮>',
      MsgId: '6054768590064713728',
    });
  });

  it('should decode predefined entities and character references in text but not in CDATA', () => {
    // Act
    const fields = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?><xml><A>a &amp; b &lt;c&gt; &quot;&apos; &#x4e2d;&#25991;</A><B><![CDATA[&amp;]]></B></xml>',
    );

    // Assess
    expect(fields.A).toBe(`a & b <c> "' 中文`);
    expect(fields.B).toBe('&amp;');
  });

  it('should keep nested and repeated elements (event payloads)', () => {
    // Act
    const fields = parseXml(
      '<xml><SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum>a</PicMd5Sum></item><item><PicMd5Sum>b</PicMd5Sum></item></PicList></SendPicsInfo><Empty/></xml>',
    );

    // Assess
    expect(fields).toEqual({
      SendPicsInfo: { Count: '2', PicList: { item: [{ PicMd5Sum: 'a' }, { PicMd5Sum: 'b' }] } },
      Empty: '',
    });
    expect(textField(fields, 'Empty')).toBe('');
    expect(textField(fields, 'SendPicsInfo')).toBeUndefined();
    expect(textField(fields, 'constructor')).toBeUndefined();
  });

  it('should accept a comment and a byte-order mark', () => {
    // Act
    const fields = parseXml('\uFEFF<xml><!-- note <!DOCTYPE in a comment --><A>1</A></xml>');

    // Assess
    expect(fields).toEqual({ A: '1' });
  });

  it('should accept the text <!DOCTYPE inside CDATA (it is data there)', () => {
    // Act
    const fields = parseXml('<xml><Content><![CDATA[我输入了 <!DOCTYPE html>]]></Content></xml>');

    // Assess
    expect(fields.Content).toBe('我输入了 <!DOCTYPE html>');
  });

  it.each([
    ['a DOCTYPE', '<!DOCTYPE xml><xml><A>1</A></xml>'],
    ['an internal subset with entities', '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">]><xml><A>&a;</A></xml>'],
    [
      'an external entity (XXE)',
      '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><A>&xxe;</A></xml>',
    ],
    [
      'billion laughs',
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><A>&lol2;</A></xml>',
    ],
    ['a lower-case doctype', '<!doctype xml><xml/>'],
    ['an ENTITY after the root opens', '<xml><!ENTITY a "b"><A>1</A></xml>'],
    ['an ELEMENT declaration', '<!ELEMENT xml ANY><xml/>'],
    ['a DOCTYPE after a CDATA section', '<xml><A><![CDATA[x]]></A></xml><!DOCTYPE x>'],
  ])('should refuse %s with XML_DOCTYPE_FORBIDDEN', (_what, xml) => {
    // Act
    const error = rejection(() => parseXml(xml));

    // Assess
    expect(error.code).toBe('XML_DOCTYPE_FORBIDDEN');
    expect(error.status).toBe(400);
  });

  it('should refuse a body over the size limit with BODY_TOO_LARGE (413), counting UTF-8 bytes', () => {
    // Prepare: 30 CJK characters are 90 bytes.
    const xml = `<xml><A>${'路'.repeat(30)}</A></xml>`;

    // Act
    const error = rejection(() => parseXml(xml, { maxBytes: 64 }));

    // Assess
    expect(xml.length).toBeLessThan(64);
    expect(error.code).toBe('BODY_TOO_LARGE');
    expect(error.status).toBe(413);
  });

  it.each([
    ['an empty body', ''],
    ['whitespace', '  \n '],
    ['plain text', 'hello'],
    ['JSON', '{"a":1}'],
    ['a mismatched close tag', '<xml><A>1</B></xml>'],
    ['an unclosed root', '<xml><A>1</A>'],
    ['two roots', '<xml><A>1</A></xml><xml/>'],
    ['another root name', '<root><A>1</A></root>'],
    ['text directly in the root', '<xml>hello</xml>'],
    ['an unknown entity', '<xml><A>&nbsp;</A></xml>'],
    ['a bare ampersand', '<xml><A>a & b</A></xml>'],
    ['a character reference to NUL', '<xml><A>&#0;</A></xml>'],
    ['a character reference beyond Unicode', '<xml><A>&#x110000;</A></xml>'],
    ['an unterminated CDATA', '<xml><A><![CDATA[abc</A></xml>'],
    ['an unterminated comment', '<xml><!-- abc <A>1</A></xml>'],
    ['a __proto__ element', '<xml><__proto__><A>1</A></__proto__></xml>'],
    ['deep nesting', `<xml>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</xml>`],
  ])('should refuse %s with MALFORMED_XML', (_what, xml) => {
    // Act
    const error = rejection(() => parseXml(xml));

    // Assess
    expect(error.code).toBe('MALFORMED_XML');
    expect(error.status).toBe(400);
  });

  it('should not let elements named after Object members reach a prototype (the parser prefixes them)', () => {
    // Act
    const fields = parseXml('<xml><toString>1</toString><hasOwnProperty>2</hasOwnProperty></xml>');

    // Assess
    expect(fields).toEqual({ __toString: '1', __hasOwnProperty: '2' });
    expect(textField(fields, 'toString')).toBeUndefined();
    expect(typeof ({} as { toString: unknown }).toString).toBe('function');
  });
});

describe('Function: decodeEntities', () => {
  it('should leave text without ampersands untouched', () => {
    // Assess
    expect(decodeEntities('abc 中文')).toBe('abc 中文');
    expect(decodeEntities('&amp;amp;')).toBe('&amp;');
  });
});

describe('Function: buildXml', () => {
  it('should write strings as CDATA, integers bare, one element per line', () => {
    // Act
    const xml = buildXml([
      ['ToUserName', 'o123'],
      ['CreateTime', 1409735668],
      ['Content', '受理编号：WX-1'],
    ]);

    // Assess
    expect(xml).toBe(
      '<xml>\n<ToUserName><![CDATA[o123]]></ToUserName>\n<CreateTime>1409735668</CreateTime>\n<Content><![CDATA[受理编号：WX-1]]></Content>\n</xml>',
    );
  });

  it('should split ]]> so text cannot escape its CDATA, and round-trip through parseXml', () => {
    // Prepare
    const nasty = 'a]]><Injected>1</Injected><![CDATA[b ]]]]> & < \u0001';

    // Act
    const xml = buildXml([['Content', nasty]]);
    const back = parseXml(xml);

    // Assess
    expect(Object.keys(back)).toEqual(['Content']);
    expect(back.Content).toBe(nasty.replace('\u0001', ''));
  });

  it('should refuse invalid element names and non-integers as programming errors', () => {
    // Assess
    expect(() => buildXml([['a b', 'x']])).toThrow(TypeError);
    expect(() => buildXml([['A', 1.5]])).toThrow(TypeError);
    expect(() => buildXml([], '<x>')).toThrow(TypeError);
    expect(cdata('')).toBe('<![CDATA[]]>');
  });
});
