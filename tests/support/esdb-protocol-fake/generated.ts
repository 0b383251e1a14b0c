/**
 * The protocol's message and service definitions, exactly as `@eventstore/db-client` ships them.
 *
 * Why these and not our own `.proto` files: the fake must speak the very wire format the client
 * under test speaks, so it reuses the client's own generated (google-protobuf, CommonJS) code.
 * CommonJS cannot be imported by name from ESM, hence `createRequire`; the `.d.ts` files that ship
 * next to the generated code give the loaded modules their types, so nothing here is `any`.
 */
import { createRequire } from 'node:module';
import type * as CodePb from '@eventstore/db-client/generated/code_pb.js';
import type * as ServerFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import type * as ServerFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type * as SharedPb from '@eventstore/db-client/generated/shared_pb.js';
import type * as StreamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type * as StatusPb from '@eventstore/db-client/generated/status_pb.js';
import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type * as AnyPb from 'google-protobuf/google/protobuf/any_pb.js';
import type * as EmptyPb from 'google-protobuf/google/protobuf/empty_pb.js';
import type * as TimestampPb from 'google-protobuf/google/protobuf/timestamp_pb.js';

const require = createRequire(import.meta.url);
const GENERATED = '@eventstore/db-client/generated';

export const streamsPb = require(`${GENERATED}/streams_pb.js`) as typeof StreamsPb;
export const sharedPb = require(`${GENERATED}/shared_pb.js`) as typeof SharedPb;
export const serverFeaturesPb = require(
  `${GENERATED}/serverfeatures_pb.js`,
) as typeof ServerFeaturesPb;
export const streamsGrpc = require(`${GENERATED}/streams_grpc_pb.js`) as typeof StreamsGrpc;
export const serverFeaturesGrpc = require(
  `${GENERATED}/serverfeatures_grpc_pb.js`,
) as typeof ServerFeaturesGrpc;

/** google.rpc.Status and its codes: how BatchAppend answers a failed append. */
export const statusPb = require(`${GENERATED}/status_pb.js`) as typeof StatusPb;
export const codePb = require(`${GENERATED}/code_pb.js`) as typeof CodePb;

/**
 * google-protobuf's well-known types (`Any` for a status's details, `google.protobuf.Empty`, and
 * `Timestamp` for a batch append's deadline), loaded from where the generated code loads them,
 * so they are the very same module instances.
 */
const requireFromGenerated = createRequire(require.resolve(`${GENERATED}/status_pb.js`));
export const anyPb = requireFromGenerated(
  'google-protobuf/google/protobuf/any_pb.js',
) as typeof AnyPb;
export const emptyPb = requireFromGenerated(
  'google-protobuf/google/protobuf/empty_pb.js',
) as typeof EmptyPb;
export const timestampPb = requireFromGenerated(
  'google-protobuf/google/protobuf/timestamp_pb.js',
) as typeof TimestampPb;

export type {
  AnyPb,
  CodePb,
  EmptyPb,
  ServerFeaturesGrpc,
  ServerFeaturesPb,
  SharedPb,
  StatusPb,
  StreamsGrpc,
  StreamsPb,
  TimestampPb,
};
