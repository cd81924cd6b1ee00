/**
 * A stand-in for `@smithy/core/event-streams` in Lambda bundles (esbuild `--alias`, see `infra/bundling.ts`).
 *
 * Event streams carry the operations that stream typed messages (S3 SelectObjectContent, Transcribe, Bedrock …);
 * CityLoop calls none of them. Yet every client pulls the codec in: `HttpProtocol` loads it with `await import()`,
 * which esbuild cannot split out of a single-file bundle, and which makes it wrap that module and everything it
 * imports in lazy initializers that are never tree-shaken (~19 kB of the one-DynamoDB-client floor). The S3 client
 * also wires an event-stream marshaller into its config at construction. This module keeps those exports and their
 * construction-time behaviour; an actual event-stream operation fails at once with `EVENT_STREAMS_NOT_BUNDLED`
 * instead of sending a request it could not read. Never used unbundled (tests, the local stack, the CLI).
 */

/** Thrown when an operation with an event stream runs in a bundle built without the codec. */
export class EventStreamsNotBundledError extends Error {
  readonly code = 'EVENT_STREAMS_NOT_BUNDLED';
  constructor() {
    super('event streams: this Lambda bundle is built without @smithy/core/event-streams (see infra/bundling.ts)');
    this.name = 'EventStreamsNotBundledError';
  }
}

const unsupported = (): never => {
  throw new EventStreamsNotBundledError();
};

/** A marshaller whose every use throws. */
export interface UnbundledEventStreamMarshaller {
  serialize: (...args: unknown[]) => never;
  deserialize: (...args: unknown[]) => never;
}

/** Used by `HttpProtocol` only for operations with an event-stream member. */
export class EventStreamSerde {
  constructor(..._args: unknown[]) {
    unsupported();
  }
}

/** The S3 client's config default: building the marshaller succeeds, using it throws. */
export const eventStreamSerdeProvider = (_options?: unknown): UnbundledEventStreamMarshaller => ({
  serialize: unsupported,
  deserialize: unsupported,
});

/** Same as the package: the marshaller from the config's provider. */
export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: (config: T) => unknown }>(
  input: T,
): T & { eventStreamMarshaller: unknown } =>
  Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });
