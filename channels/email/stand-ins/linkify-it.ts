/**
 * A stand-in for `linkify-it` in Lambda bundles (esbuild alias, see `infra/bundling.ts`).
 *
 * mailparser builds one linkifier at import (its full list of top-level domains compiled into regular expressions,
 * ~9 ms of an email-inbound cold start) to turn links in text into anchors for `textAsHtml`. `parse.ts` runs it with
 * `skipTextToHtml` and `skipTextLinks`, so the linkifier is never asked anything. The stand-in takes the set-up calls
 * mailparser makes at import (`tlds`, `add`, `set`, chained) and throws `LINKIFY_NOT_BUNDLED` on any matching call.
 * Never used unbundled (tests, the local stack, the CLI).
 */

/** Thrown if mailparser is ever run without `skipTextToHtml`/`skipTextLinks` inside a Lambda bundle. */
export class LinkifyNotBundledError extends Error {
  readonly code = 'LINKIFY_NOT_BUNDLED';
  constructor() {
    super('linkify-it: this Lambda bundle is built without it; parse mail with skipTextToHtml (see infra/bundling.ts)');
    this.name = 'LinkifyNotBundledError';
  }
}

const unsupported = (): never => {
  throw new LinkifyNotBundledError();
};

/** The linkifier's interface as far as mailparser uses it: configuration is accepted, matching refused. */
export interface UnbundledLinkify {
  tlds(list: unknown, keepOld?: boolean): UnbundledLinkify;
  add(schema: string, definition: unknown): UnbundledLinkify;
  set(options: unknown): UnbundledLinkify;
  pretest: (...args: unknown[]) => never;
  test: (...args: unknown[]) => never;
  match: (...args: unknown[]) => never;
  matchAtStart: (...args: unknown[]) => never;
  testSchemaAt: (...args: unknown[]) => never;
}

export default function linkifyIt(_schemas?: unknown, _options?: unknown): UnbundledLinkify {
  const self: UnbundledLinkify = {
    tlds: () => self,
    add: () => self,
    set: () => self,
    pretest: unsupported,
    test: unsupported,
    match: unsupported,
    matchAtStart: unsupported,
    testSchemaAt: unsupported,
  };
  return self;
}
