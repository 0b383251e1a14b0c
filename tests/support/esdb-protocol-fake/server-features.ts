/**
 * ServerFeatures.GetSupportedMethods: what the client asks first, to pick code paths. The fake
 * lists only what it implements, lower-cased like EventStoreDB does. Above all, BatchAppend is
 * absent, so the client falls back to the classic Append call (appendToStream checks
 * `supports(StreamsService.batchAppend)`).
 */
import type { handleUnaryCall } from '@grpc/grpc-js';
import { serverFeaturesPb, type ServerFeaturesPb, type SharedPb } from './generated.js';

/** Not a real version: makes it obvious in client debug logs what it is talking to. */
export const FAKE_SERVER_VERSION = '0.0.0-protocol-fake';

const STREAMS = 'event_store.client.streams.streams';
const SERVER_FEATURES = 'event_store.client.server_features.serverfeatures';

const SUPPORTED: ReadonlyArray<{ service: string; method: string; features: string[] }> = [
  // The features EventStoreDB advertises for Read: reads by position, and event payloads.
  { service: STREAMS, method: 'read', features: ['position', 'events'] },
  { service: STREAMS, method: 'append', features: [] },
  { service: SERVER_FEATURES, method: 'getsupportedmethods', features: [] },
];

export const getSupportedMethods: handleUnaryCall<
  SharedPb.Empty,
  ServerFeaturesPb.SupportedMethods
> = (_call, callback) => {
  const methods = SUPPORTED.map(({ service, method, features }) =>
    new serverFeaturesPb.SupportedMethod()
      .setServiceName(service)
      .setMethodName(method)
      .setFeaturesList(features),
  );
  const supported = new serverFeaturesPb.SupportedMethods()
    .setEventStoreServerVersion(FAKE_SERVER_VERSION)
    .setMethodsList(methods);
  callback(null, supported);
};
