import {
  chainedEventOf,
  exportEventSchema,
  exportHeaderSchema,
  exportTrailerSchema,
} from './export-format.js';
import { LogVerifier, type VerificationReport, type VerifierOptions } from './verifier.js';

/**
 * Verifies an export offline, line by line, with nothing but the file and the public keys the
 * auditor trusts. A line that is not valid JSON or not an event (a flipped byte can do either)
 * is a `format` break naming the line and the position before it; a changed value is caught by
 * the hashes at the event that holds it.
 */
export async function verifyExportLines(
  lines: AsyncIterable<string> | Iterable<string>,
  options: Omit<VerifierOptions, 'startPosition'> = {},
): Promise<VerificationReport & { readonly header: unknown }> {
  let verifier: LogVerifier | undefined;
  let header: unknown = null;
  let lineNo = 0;
  let lastPosition: number | null = null;
  let events = 0;
  let ended = false;
  for await (const raw of lines) {
    lineNo += 1;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
    if (verifier === undefined) {
      const parsed = exportHeaderSchema.safeParse(value);
      if (!parsed.success) {
        verifier = new LogVerifier(options);
        verifier.malformed(null, `line ${lineNo} is not a waste-ledger export header`);
        continue;
      }
      header = parsed.data;
      verifier = new LogVerifier({ ...options, startPosition: parsed.data.fromPosition });
      continue;
    }
    if (ended) {
      verifier.malformed(lastPosition, `line ${lineNo} follows the end-of-export line`);
      continue;
    }
    const event = exportEventSchema.safeParse(value);
    if (event.success) {
      verifier.push(chainedEventOf(event.data));
      lastPosition = event.data.position;
      events += 1;
      continue;
    }
    const trailer = exportTrailerSchema.safeParse(value);
    if (trailer.success) {
      ended = true;
      if (trailer.data.events !== events) {
        verifier.malformed(
          lastPosition,
          `the export says it holds ${trailer.data.events} events, but ${events} were read`,
        );
      }
      continue;
    }
    verifier.malformed(
      lastPosition,
      `line ${lineNo} (after position ${lastPosition ?? 'none'}) is ${value === undefined ? 'not valid JSON' : 'not an event'}`,
    );
  }
  verifier ??= new LogVerifier(options);
  if (lineNo === 0) verifier.malformed(null, 'the export is empty');
  else if (!ended)
    verifier.malformed(
      lastPosition,
      `the export ends at line ${lineNo} without its end line: the file was cut short`,
    );
  return { ...verifier.finish(), header };
}
