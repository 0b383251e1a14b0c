/**
 * Event ids on the wire. The protocol's UUID message is either a string or "structured": the
 * RFC 4122 big-endian 16 bytes split in two signed int64 halves (sent as decimal strings).
 * Clients choose which form they want back through the read request's `uuid_option`.
 */
import { sharedPb, type SharedPb } from './generated.js';

const HEX_DIGITS = 32;

/** The lower-case canonical string of a UUID message, whatever form it came in. */
export function uuidToString(uuid: SharedPb.UUID | undefined): string {
  if (uuid === undefined) throw new Error('event id is missing');
  if (!uuid.hasStructured()) return uuid.getString().toLowerCase();
  const structured = uuid.getStructured() as SharedPb.UUID.Structured;
  const hex =
    unsignedHex(structured.getMostSignificantBits()) +
    unsignedHex(structured.getLeastSignificantBits());
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20),
  ].join('-');
}

/** A UUID message in the form the reader asked for. */
export function uuidMessage(id: string, structured: boolean): SharedPb.UUID {
  const uuid = new sharedPb.UUID();
  if (!structured) return uuid.setString(id);
  const hex = id.replaceAll('-', '');
  if (hex.length !== HEX_DIGITS) throw new Error(`not a UUID: ${id}`);
  const halves = new sharedPb.UUID.Structured()
    .setMostSignificantBits(signedDecimal(hex.slice(0, 16)))
    .setLeastSignificantBits(signedDecimal(hex.slice(16)));
  return uuid.setStructured(halves);
}

function unsignedHex(signedInt64: string): string {
  return BigInt.asUintN(64, BigInt(signedInt64)).toString(16).padStart(16, '0');
}

function signedDecimal(hex16: string): string {
  return BigInt.asIntN(64, BigInt(`0x${hex16}`)).toString(10);
}
