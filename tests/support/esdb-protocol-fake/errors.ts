/**
 * gRPC failures the fake answers with. EventStoreDB signals its own error kinds with an
 * `exception` trailer the client maps to typed errors; plain gRPC codes cover the rest.
 */
import { Metadata, status, type ServerErrorResponse } from '@grpc/grpc-js';

/** An error that is also the status object grpc-js sends to the client. */
export class RpcError extends Error implements ServerErrorResponse {
  readonly details: string;
  readonly metadata = new Metadata();

  constructor(
    readonly code: status,
    details: string,
    trailers: Readonly<Record<string, string>> = {},
  ) {
    super(details);
    this.details = details;
    for (const [key, value] of Object.entries(trailers)) this.metadata.set(key, value);
  }
}

/** What any call the fake does not implement answers, so adapters find out at once. */
export function unimplemented(method: string): RpcError {
  return new RpcError(status.UNIMPLEMENTED, `The protocol fake does not implement ${method}`);
}

export function invalidArgument(details: string): RpcError {
  return new RpcError(status.INVALID_ARGUMENT, details);
}

/** EventStoreDB's answer to a proposed event without `type` or `content-type` metadata. */
export function requiredMetadataPropertyMissing(property: string): RpcError {
  return new RpcError(
    status.INVALID_ARGUMENT,
    `Required metadata property ${property} is missing`,
    {
      exception: 'missing-required-metadata-property',
      'required-metadata-properties': property,
    },
  );
}

/** Any failure as a status: our own RpcErrors as they are, anything else as INTERNAL. */
export function toServerError(error: unknown): ServerErrorResponse {
  if (error instanceof RpcError) return error;
  const details = error instanceof Error ? error.message : String(error);
  return new RpcError(status.INTERNAL, details);
}
