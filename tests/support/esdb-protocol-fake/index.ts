/**
 * The protocol fake: an in-process gRPC server that speaks EventStoreDB's Streams protocol, so
 * the real `@eventstore/db-client` can be tested where no EventStoreDB can run.
 *
 * It implements Streams.Read (reads and catch-up subscriptions), Streams.BatchAppend (the append
 * EventStoreDB 21.10+ offers and the client prefers), Streams.Append (the classic client-streaming
 * append) and ServerFeatures.GetSupportedMethods, over an in-memory log that starts with a few
 * system events. Both appends share one write path (commit.ts). Every other call answers
 * UNIMPLEMENTED. Started with `{ batchAppend: false }`, it plays a server older than 21.10:
 * BatchAppend is neither advertised nor served, so the client appends through Streams.Append.
 */
import { Server, ServerCredentials, type handleUnaryCall } from '@grpc/grpc-js';
import { appendHandler } from './append.js';
import { batchAppendHandler } from './batch-append.js';
import { unimplemented } from './errors.js';
import {
  serverFeaturesGrpc,
  streamsGrpc,
  type ServerFeaturesGrpc,
  type StreamsGrpc,
} from './generated.js';
import { TransactionLog } from './log.js';
import { readHandler } from './read.js';
import { getSupportedMethodsHandler } from './server-features.js';
import { seedSystemEvents } from './system-events.js';

export interface EsdbProtocolFakeOptions {
  /**
   * Whether the fake advertises and serves Streams.BatchAppend, as EventStoreDB 21.10+ does
   * (default true): the client then appends through BatchAppend. With false it plays an older
   * server: BatchAppend is not advertised (and answers UNIMPLEMENTED), and the client appends
   * through the classic Streams.Append.
   */
  readonly batchAppend?: boolean;
}

/** The gRPC methods the fake serves (or answers UNIMPLEMENTED), as `Service.Method`. */
export type FakeMethod =
  | 'Streams.Read'
  | 'Streams.Append'
  | 'Streams.BatchAppend'
  | 'Streams.Delete'
  | 'Streams.Tombstone'
  | 'ServerFeatures.GetSupportedMethods';

const METHODS: readonly FakeMethod[] = [
  'Streams.Read',
  'Streams.Append',
  'Streams.BatchAppend',
  'Streams.Delete',
  'Streams.Tombstone',
  'ServerFeatures.GetSupportedMethods',
];

export interface EsdbProtocolFake {
  /** `esdb://127.0.0.1:PORT?tls=false`, for `EventStoreDBClient.connectionString`. */
  readonly connectionString: string;
  /** Subscriptions currently listening to the log (lets tests prove a cancel is seen). */
  readonly activeSubscriptions: number;
  /**
   * How many gRPC calls each method has received so far (every method is present, from 0), as
   * a snapshot: lets tests prove which path the client took. A call is one gRPC call, not one
   * append: the client sends all its appends through a single long-lived BatchAppend call.
   */
  readonly calls: ReadonlyMap<FakeMethod, number>;
  close(): Promise<void>;
}

export async function startEsdbProtocolFake(
  options: EsdbProtocolFakeOptions = {},
): Promise<EsdbProtocolFake> {
  const batchAppend = options.batchAppend ?? true;
  const log = new TransactionLog();
  seedSystemEvents(log);
  const calls = new Map<FakeMethod, number>(METHODS.map((method) => [method, 0]));
  const count = <Args extends unknown[]>(
    method: FakeMethod,
    handler: (...args: Args) => void,
  ): ((...args: Args) => void) => {
    return (...args) => {
      calls.set(method, (calls.get(method) ?? 0) + 1);
      handler(...args);
    };
  };
  const server = new Server();
  server.addService(streamsGrpc.StreamsService, {
    read: count('Streams.Read', readHandler(log)),
    append: count('Streams.Append', appendHandler(log)),
    delete: count('Streams.Delete', unimplementedUnary('Streams.Delete')),
    tombstone: count('Streams.Tombstone', unimplementedUnary('Streams.Tombstone')),
    batchAppend: count(
      'Streams.BatchAppend',
      batchAppend
        ? batchAppendHandler(log)
        : (call) => void call.emit('error', unimplemented('Streams.BatchAppend')),
    ),
  } satisfies StreamsGrpc.IStreamsServer);
  server.addService(serverFeaturesGrpc.ServerFeaturesService, {
    getSupportedMethods: count(
      'ServerFeatures.GetSupportedMethods',
      getSupportedMethodsHandler({ batchAppend }),
    ),
  } satisfies ServerFeaturesGrpc.IServerFeaturesServer);
  const port = await bind(server);
  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    get activeSubscriptions() {
      return log.listenerCount;
    },
    get calls() {
      return new Map(calls);
    },
    close: () => {
      // Subscriptions never end by themselves: cancel every call rather than wait for them.
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}

function unimplementedUnary<Request, Response>(method: string): handleUnaryCall<Request, Response> {
  return (_call, callback) => callback(unimplemented(method));
}

/** Binds an ephemeral port on the loopback interface and returns the port the OS chose. */
function bind(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
      if (error === null) resolve(port);
      else reject(error);
    });
  });
}
