/** Streams.Read (server streaming): decodes the request, then reads or subscribes. */
import type { handleServerStreamingCall } from '@grpc/grpc-js';
import { toServerError } from './errors.js';
import type { StreamsPb } from './generated.js';
import type { TransactionLog } from './log.js';
import { parseReadRequest } from './read-request.js';
import { answerRead } from './reads.js';
import { startSubscription } from './subscription.js';

type ReadReq = StreamsPb.ReadReq;
type ReadResp = StreamsPb.ReadResp;

export function readHandler(log: TransactionLog): handleServerStreamingCall<ReadReq, ReadResp> {
  return (call) => {
    // A failure ends the call with a status; grpc-js turns an 'error' event into exactly that.
    const fail = (error: unknown): void => void call.emit('error', toServerError(error));
    try {
      const request = parseReadRequest(call.request);
      if (request.kind === 'subscribe-all' || request.kind === 'subscribe-stream') {
        startSubscription(log, request, call);
      } else {
        answerRead(log, request, call).catch(fail);
      }
    } catch (error) {
      fail(error);
    }
  };
}
