/**
 * The protocol's message and service definitions, exactly as `@eventstore/db-client` ships them.
 *
 * Why these and not our own `.proto` files: the fake must speak the very wire format the client
 * under test speaks, so it reuses the client's own generated (google-protobuf, CommonJS) code.
 * CommonJS cannot be imported by name from ESM, hence `createRequire`; the `.d.ts` files that ship
 * next to the generated code give the loaded modules their types, so nothing here is `any`.
 */
import { createRequire } from 'node:module';
import type * as ServerFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import type * as ServerFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type * as SharedPb from '@eventstore/db-client/generated/shared_pb.js';
import type * as StreamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb.js';

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

export type { ServerFeaturesGrpc, ServerFeaturesPb, SharedPb, StreamsGrpc, StreamsPb };
