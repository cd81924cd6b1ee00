/**
 * A stand-in for `html-to-text` in Lambda bundles (esbuild alias, see `infra/bundling.ts`).
 *
 * mailparser imports it to turn HTML-only mail into text, which CityLoop does itself (`channels/email/html.ts`):
 * `parse.ts` runs mailparser with `skipHtmlToText`, so the converter is never called. Bundled, it brought in
 * htmlparser2, entities, domhandler, dom-serializer, selderee and deepmerge (~170 kB of every email-inbound cold
 * start). A call fails at once with `HTML_TO_TEXT_NOT_BUNDLED`. Never used unbundled (tests, the local stack, the CLI).
 */

/** Thrown if mailparser is ever run without `skipHtmlToText` inside a Lambda bundle. */
export class HtmlToTextNotBundledError extends Error {
  readonly code = 'HTML_TO_TEXT_NOT_BUNDLED';
  constructor() {
    super(
      'html-to-text: this Lambda bundle is built without it; parse mail with skipHtmlToText (see infra/bundling.ts)',
    );
    this.name = 'HtmlToTextNotBundledError';
  }
}

export function htmlToText(_html: string, _options?: unknown): never {
  throw new HtmlToTextNotBundledError();
}

export const convert = htmlToText;
