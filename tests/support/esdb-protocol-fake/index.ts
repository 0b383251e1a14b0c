/**
 * The protocol fake: an in-process gRPC server that speaks EventStoreDB's Streams protocol, so
 * the real `@eventstore/db-client` can be tested where no EventStoreDB can run.
 *
 * It implements Streams.Read (reads and catch-up subscriptions), Streams.Append (the classic
 * client-streaming append) and ServerFeatures.GetSupportedMethods, over an in-memory log that
 * starts with a few system events. Every other call answers UNIMPLEMENTED.
 */
import { Server, ServerCredentials, type handleUnaryCall } from '@grpc/grpc-js';
import { appendHandler } from './append.js';
import { unimplemented } from './errors.js';
import { serverFeaturesGrpc, streamsGrpc, type StreamsGrpc } from './generated.js';
import { TransactionLog } from './log.js';
import { readHandler } from './read.js';
import { getSupportedMethods } from './server-features.js';
import { seedSystemEvents } from './system-events.js';

export interface EsdbProtocolFake {
  /** `esdb://127.0.0.1:PORT?tls=false`, for `EventStoreDBClient.connectionString`. */
  readonly connectionString: string;
  /** Subscriptions currently listening to the log (lets tests prove a cancel is seen). */
  readonly activeSubscriptions: number;
  close(): Promise<void>;
}

export async function startEsdbProtocolFake(): Promise<EsdbProtocolFake> {
  const log = new TransactionLog();
  seedSystemEvents(log);
  const server = new Server();
  server.addService(streamsGrpc.StreamsService, streamsImplementation(log));
  server.addService(serverFeaturesGrpc.ServerFeaturesService, { getSupportedMethods });
  const port = await bind(server);
  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    get activeSubscriptions() {
      return log.listenerCount;
    },
    close: () => {
      // Subscriptions never end by themselves: cancel every call rather than wait for them.
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}

function streamsImplementation(log: TransactionLog): StreamsGrpc.IStreamsServer {
  return {
    read: readHandler(log),
    append: appendHandler(log),
    delete: unimplementedUnary('Streams.Delete'),
    tombstone: unimplementedUnary('Streams.Tombstone'),
    batchAppend: (call) => call.emit('error', unimplemented('Streams.BatchAppend')),
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
