import { setNodePostgresTypeParser } from '@event-driven-io/dumbo';
import pg from 'pg';

/** int8, json, jsonb: the types Emmett's driver layer (dumbo) parses its own way. */
const OIDS = [20, 114, 3802] as const;

type TextParser = (value: string) => unknown;
let emmettParsers: ReadonlyMap<number, TextParser> | undefined;

/**
 * Emmett's driver layer replaces pg's process-wide parsers for int8, json and jsonb (BigInt, and
 * JSON.parse with a reviver) the first time it makes a pool. In one process with the ledger,
 * that would make the ledger's reads parse every event through Emmett's reviver: slower, and not
 * how the ledger runs. So dumbo installs its parsers here, once; they are kept for Emmett's own
 * pool, and pg's defaults go back for everyone else.
 */
export function emmettTypeParsers(): pg.CustomTypesConfig {
  const parserOf = (oid: number): TextParser => pg.types.getTypeParser(oid, 'text') as TextParser;
  if (emmettParsers === undefined) {
    const defaults = OIDS.map((oid) => [oid, parserOf(oid)] as const);
    setNodePostgresTypeParser();
    emmettParsers = new Map(OIDS.map((oid) => [oid, parserOf(oid)]));
    for (const [oid, parser] of defaults) pg.types.setTypeParser(oid, parser);
  }
  const own = emmettParsers;
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
      own.get(oid) ??
      (pg.types.getTypeParser(oid, format) as unknown)) as pg.CustomTypesConfig['getTypeParser'],
  };
}
