/**
 * Writing to a server-streaming call with backpressure: when grpc-js's buffer is full, wait for
 * `drain` before the next message, so a slow reader never makes the fake buffer the whole log.
 * A cancelled or closed call also releases the wait (there is nothing left to wait for).
 */
import type { ServerWritableStream } from '@grpc/grpc-js';

export type ResponseStream<Response> = ServerWritableStream<unknown, Response>;

const RELEASE_EVENTS = ['drain', 'cancelled', 'close'] as const;

export function send<Response>(call: ResponseStream<Response>, message: Response): Promise<void> {
  if (call.write(message)) return Promise.resolve();
  return new Promise((resolve) => {
    const release = (): void => {
      for (const event of RELEASE_EVENTS) call.off(event, release);
      resolve();
    };
    for (const event of RELEASE_EVENTS) call.once(event, release);
  });
}

/** Whether writing more is pointless: the client went away or the call already ended. */
export function isGone(
  call: Pick<ResponseStream<unknown>, 'cancelled' | 'writableEnded' | 'destroyed'>,
): boolean {
  return call.cancelled || call.writableEnded || call.destroyed;
}
