/**
 * ServerFeatures.GetSupportedMethods: what the client asks first, to pick code paths. The fake
 * lists only what it implements, lower-cased like EventStoreDB does. BatchAppend is listed unless
 * the fake runs in classic mode: the client's appendToStream takes Streams.BatchAppend when it
 * is listed (`supports(StreamsService.batchAppend)`), as against EventStoreDB 21.10+, and falls
 * back to the classic Streams.Append otherwise, as against 20.x.
 */
import type { handleUnaryCall } from '@grpc/grpc-js';
import { serverFeaturesPb, type ServerFeaturesPb, type SharedPb } from './generated.js';

/** Not a real version: makes it obvious in client debug logs what it is talking to. */
export const FAKE_SERVER_VERSION = '0.0.0-protocol-fake';

const STREAMS = 'event_store.client.streams.streams';
const SERVER_FEATURES = 'event_store.client.server_features.serverfeatures';

interface SupportedMethod {
  readonly service: string;
  readonly method: string;
  readonly features: readonly string[];
}

function supportedMethods(batchAppend: boolean): readonly SupportedMethod[] {
  return [
    // The features EventStoreDB advertises for Read: reads by position, and event payloads.
    { service: STREAMS, method: 'read', features: ['position', 'events'] },
    { service: STREAMS, method: 'append', features: [] },
    ...(batchAppend ? [{ service: STREAMS, method: 'batchappend', features: [] }] : []),
    { service: SERVER_FEATURES, method: 'getsupportedmethods', features: [] },
  ];
}

export function getSupportedMethodsHandler(options: {
  readonly batchAppend: boolean;
}): handleUnaryCall<SharedPb.Empty, ServerFeaturesPb.SupportedMethods> {
  const supported = supportedMethods(options.batchAppend);
  return (_call, callback) => {
    const methods = supported.map(({ service, method, features }) =>
      new serverFeaturesPb.SupportedMethod()
        .setServiceName(service)
        .setMethodName(method)
        .setFeaturesList([...features]),
    );
    const answer = new serverFeaturesPb.SupportedMethods()
      .setEventStoreServerVersion(FAKE_SERVER_VERSION)
      .setMethodsList(methods);
    callback(null, answer);
  };
}
