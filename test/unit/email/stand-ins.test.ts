import { describe, expect, it } from 'vitest';
import { HtmlToTextNotBundledError, htmlToText } from '#channels/email/stand-ins/html-to-text.ts';
import linkifyIt, { LinkifyNotBundledError } from '#channels/email/stand-ins/linkify-it.ts';

describe('Module: the linkify-it stand-in', () => {
  it('should take mailparser’s set-up calls, chained, and refuse any matching', () => {
    // Act
    const l = linkifyIt();
    const chained = l.tlds(['cn'], false).tlds('onion', true).add('git:', 'http:').add('ftp:', null).set({});
    // Assess
    expect(chained).toBe(l);
    for (const call of [() => l.pretest('x'), () => l.test('x'), () => l.match('x'), () => l.matchAtStart('x')]) {
      expect(call).toThrow(LinkifyNotBundledError);
    }
    expect(() => l.match('x')).toThrow(expect.objectContaining({ code: 'LINKIFY_NOT_BUNDLED' }));
  });
});

describe('Module: the html-to-text stand-in', () => {
  it('should refuse to convert', () => {
    // Assess
    expect(() => htmlToText('<p>x</p>')).toThrow(HtmlToTextNotBundledError);
    expect(() => htmlToText('<p>x</p>')).toThrow(expect.objectContaining({ code: 'HTML_TO_TEXT_NOT_BUNDLED' }));
  });
});
