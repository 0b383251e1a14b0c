import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import { exportEvents, storeEvents } from '../audit/event-sources.js';
import { diffProjection, dropScratch, replayProjection } from '../audit/replay.js';
import { ledgerProjections } from '../projections/ledger-projections.js';
import { readCheckpoint, type CheckpointDatabase } from '../projections/runner/checkpoints.js';
import { exportLines, verifyStore } from '../audit/log-audit.js';
import {
  publishedReportSchema,
  reproduceReport,
  type Reproduction,
} from '../audit/reproduce/reproduce.js';
import { loadOrCreateSealingKey } from '../audit/seal-key-file.js';
import { Sealer, sealingKeys } from '../audit/sealer.js';
import type { VerificationReport } from '../audit/verifier.js';
import { verifyExportLines } from '../audit/verify-export.js';
import { normalisePublicKey, publicKeyPem } from '../integrity/signing.js';
import { ConfigurationError, parseConfig } from '../runtime/config.js';
import { openLedger, type Ledger } from '../runtime/open-ledger.js';
import { progressBar } from './progress.js';

const USAGE = `Usage: npm run audit -- <command> [options]

Commands
  verify                  recompute every hash chain, seal and signature of the ledger's log
    --file <export>       verify an export file offline instead (no database needed)
    --public-key <key>    a sealing public key you trust: a PEM file, or base64 DER (repeatable);
                          without one, the log's first key is trusted on first use (and said so)
    --held-seal <p:root>  a seal you fetched earlier (position:root, from GET /v1/audit/seals):
                          it must still be in the log, or the log was cut back (repeatable)
    --merkle-window <n>   Merkle leaves kept for seals that arrive after their range ends
                          (default 524 288, about 20 MiB; a 'window' break says when to raise it)
    --json                print the whole report as JSON
  export                  write the log as NDJSON with hashes and seals
    --out <file>          where to write (default: standard output)
    --from <position>     first position (default 1)
    --to <position>       last position (default: the head when the export starts)
  seal                    seal everything appended since the last seal, now
  reproduce <report.json> recompute a published compliance report (GET /v1/plans/:id/report, saved as
                          JSON) from the events alone and say whether every figure matches
    --file <export>       from an export, verified first with --public-key (no database needed)
  replay --projection <name>
                          rebuild a read model from the log into a scratch schema and compare it,
                          table by table, with the live one (at the live one's checkpoint)
    --up-to-position <p>  or --up-to-time <ISO time>: replay only that far (no comparison; the
                          scratch schema is kept for you to query)
    --file <export>       replay from an export, verified first with --public-key
    --keep                keep the scratch schema afterwards
  keys                    list the sealing keys on record
  rotate-key --new <file> record a new sealing key, endorsed by the current one (LEDGER_SEAL_KEY_FILE);
                          the new key file is created if missing; then point LEDGER_SEAL_KEY_FILE at it

The database is the one \`npm start\` uses (DATABASE_URL, or the embedded folder LEDGER_DATA_DIR).
With the embedded database, stop the server first (one process at a time), or use the API:
GET /v1/audit/verify, GET /v1/audit/export.
Exit status: 0 verified, 1 the log has breaks, 2 usage or configuration error.`;

class UsageError extends Error {}

function printReport(report: VerificationReport, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const range =
    report.lastPosition === null
      ? 'no events'
      : `positions ${report.firstPosition ?? '?'}…${report.lastPosition}`;
  console.log(
    `${report.events} events in ${report.streams} streams (${range}); ${report.sealsVerified} seals verified, sealed up to ${report.sealedUpTo}`,
  );
  for (const k of report.keys) console.log(`  key ${k.keyId}: ${k.trustedBecause}`);
  for (const note of report.notes) console.log(`  note: ${note}`);
  if (report.ok) {
    console.log('VERIFIED: every event is as hashed, every chain links, every seal matches.');
    return;
  }
  console.log(`BROKEN: ${report.breakCount} break(s). The first:`);
  const b = report.firstBreak;
  if (b !== null) {
    console.log(
      `  ${b.kind} at position ${b.position ?? '?'}, stream ${b.streamId ?? '?'}, revision ${b.revision ?? '?'}`,
    );
    console.log(`  ${b.message}`);
    if (b.expected !== undefined) console.log(`  expected ${b.expected}`);
    if (b.found !== undefined) console.log(`  found    ${b.found}`);
  }
  for (const other of report.breaks.slice(1, 10)) {
    console.log(`  then: ${other.kind} at ${other.position ?? '?'} — ${other.message}`);
  }
}

/** Each --public-key is a file holding a PEM or base64 key, or the key itself. */
async function trustedKeys(values: readonly string[]): Promise<string[]> {
  return Promise.all(
    values.map(async (value) => {
      const text = await readFile(value, 'utf8').catch(() => value);
      try {
        const key = normalisePublicKey(text);
        publicKeyPem(key); // parses it: a typo is a usage error, not a silently untrusted key
        return key;
      } catch {
        throw new UsageError(`--public-key ${value} is neither a public key file nor a public key`);
      }
    }),
  );
}

/** `--merkle-window`: a whole number of leaves, at least 1. */
function merkleWindow(value: string | undefined): { merkleWindow?: number } {
  if (value === undefined) return {};
  const leaves = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(leaves) || leaves < 1) {
    throw new UsageError(`--merkle-window must be a whole number of leaves ≥ 1, not ${value}`);
  }
  return { merkleWindow: leaves };
}

function heldSeals(values: readonly string[]): { position: number; root: string }[] {
  return values.map((v) => {
    const match = /^(\d+):([0-9a-f]{64})$/.exec(v);
    if (match === null)
      throw new UsageError(`--held-seal must be position:root (64 hex digits), got ${v}`);
    return { position: Number(match[1]), root: match[2]! };
  });
}

function printReproduction(r: Reproduction, json: boolean): void {
  if (json) {
    console.log(JSON.stringify({ ...r, recomputed: undefined }, null, 2));
    return;
  }
  console.log(
    `report recomputed from the events up to position ${r.upToPosition}, rules ${r.rules}`,
  );
  console.log(
    `  inputs digest  published ${r.inputsDigest.published}\n                 recomputed ${r.inputsDigest.recomputed}`,
  );
  console.log(
    `  figures digest published ${r.figuresDigest.published}\n                 recomputed ${r.figuresDigest.recomputed}`,
  );
  if (r.matches) {
    console.log('REPRODUCED: every figure, target status and digest matches.');
    return;
  }
  console.log(`NOT REPRODUCED: ${r.differences.length} difference(s)`);
  for (const d of r.differences.slice(0, 20)) {
    console.log(
      `  ${d.path}: published ${JSON.stringify(d.published)}, recomputed ${JSON.stringify(d.recomputed)}`,
    );
  }
}

/**
 * A file's lines, read only once someone iterates them: a line reader starts reading as soon
 * as it is made, and lines it reads while nobody listens are lost.
 */
async function* readLines(file: string): AsyncGenerator<string> {
  yield* createInterface({ input: createReadStream(file), crlfDelay: Infinity });
}

async function withLedger<T>(run: (ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = await openLedger(parseConfig(process.env));
  try {
    return await run(ledger);
  } finally {
    await ledger.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: command === 'reproduce',
    options: {
      file: { type: 'string' },
      'public-key': { type: 'string', multiple: true, default: [] },
      'held-seal': { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      'merkle-window': { type: 'string' },
      out: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      new: { type: 'string' },
      projection: { type: 'string' },
      'up-to-position': { type: 'string' },
      'up-to-time': { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || command === undefined || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case 'verify': {
      const options = {
        trustedKeys: await trustedKeys(values['public-key']),
        heldSeals: heldSeals(values['held-seal']),
        ...merkleWindow(values['merkle-window']),
      };
      let report: VerificationReport;
      if (values.file !== undefined) {
        report = await verifyExportLines(readLines(values.file), options);
      } else {
        report = await withLedger((ledger) =>
          verifyStore(ledger.store, options, progressBar('verify')),
        );
      }
      printReport(report, values.json);
      return report.ok ? 0 : 1;
    }
    case 'export': {
      const range = {
        ...(values.from === undefined ? {} : { from: positiveInteger(values.from, '--from') }),
        ...(values.to === undefined ? {} : { to: positiveInteger(values.to, '--to') }),
      };
      await withLedger(async (ledger) => {
        const out =
          values.out === undefined
            ? process.stdout
            : createWriteStream(values.out, { flags: 'wx' });
        for await (const chunk of exportLines(ledger.store, range, progressBar('export'))) {
          if (!out.write(chunk)) await once(out, 'drain');
        }
        if (out !== process.stdout) {
          out.end();
          await once(out, 'finish');
          console.error(`wrote ${values.out}`);
        }
      });
      return 0;
    }
    case 'seal': {
      const config = parseConfig(process.env);
      const { key } = await loadOrCreateSealingKey(config.LEDGER_SEAL_KEY_FILE);
      return withLedger(async (ledger) => {
        const sealer = new Sealer(ledger.store, key);
        await sealer.registerKey();
        const result = await sealer.seal(progressBar('seal'));
        if (result === undefined) console.log('nothing was appended since the last seal');
        else
          console.log(
            `sealed positions ${result.seal.fromPosition}…${result.seal.toPosition} (${result.seal.count} events): root ${result.seal.root}, seal at position ${result.position}; keep "${result.position}:${result.seal.root}" to check later that the log was not cut back`,
          );
        return 0;
      });
    }
    case 'reproduce': {
      const [reportFile] = positionals;
      if (reportFile === undefined) throw new UsageError('reproduce needs the report file');
      const published = publishedReportSchema.parse(JSON.parse(await readFile(reportFile, 'utf8')));
      const timeZone = parseConfig(process.env).LEDGER_TIMEZONE;
      const exportFile = values.file;
      let reproduction: Reproduction;
      if (exportFile !== undefined) {
        const lines = () => readLines(exportFile);
        const keys = await trustedKeys(values['public-key']);
        const verified = await verifyExportLines(lines(), { trustedKeys: keys });
        if (!verified.ok) {
          printReport(verified, values.json);
          console.log('The export does not verify: nothing was reproduced from it.');
          return 1;
        }
        reproduction = await reproduceReport(published, exportEvents(lines()), timeZone);
      } else {
        reproduction = await withLedger((ledger) =>
          reproduceReport(published, storeEvents(ledger.store), timeZone),
        );
      }
      printReproduction(reproduction, values.json);
      return reproduction.matches ? 0 : 1;
    }
    case 'replay': {
      const projection = ledgerProjections.find((p) => p.name === values.projection);
      if (projection === undefined) {
        throw new UsageError(
          `--projection must be one of ${ledgerProjections.map((p) => p.name).join(', ')}`,
        );
      }
      const explicit = values['up-to-position'] !== undefined || values['up-to-time'] !== undefined;
      if (values['up-to-time'] !== undefined && Number.isNaN(Date.parse(values['up-to-time']))) {
        throw new UsageError(`--up-to-time must be an ISO 8601 time, got ${values['up-to-time']}`);
      }
      const exportFile = values.file;
      if (exportFile !== undefined) {
        const keys = await trustedKeys(values['public-key']);
        const verified = await verifyExportLines(readLines(exportFile), { trustedKeys: keys });
        if (!verified.ok) {
          printReport(verified, values.json);
          console.log('The export does not verify: nothing was replayed from it.');
          return 1;
        }
      }
      return withLedger(async (ledger) => {
        const live =
          (await readCheckpoint(ledger.db as Kysely<CheckpointDatabase>, projection.name)) ?? 0;
        const upTo = explicit
          ? {
              ...(values['up-to-position'] === undefined
                ? {}
                : { position: positiveInteger(values['up-to-position'], '--up-to-position') }),
              ...(values['up-to-time'] === undefined ? {} : { recordedAt: values['up-to-time'] }),
            }
          : { position: live };
        const schema = `replay_${projection.name.replace(/[^a-z0-9]/g, '_')}_${Date.now()}`;
        const result = await replayProjection({
          db: ledger.db,
          projection,
          schema,
          events:
            exportFile === undefined
              ? storeEvents(ledger.store)
              : exportEvents(readLines(exportFile)),
          upTo,
          onProgress: (p) => process.stderr.write(`\rreplayed up to position ${p}   `),
        });
        process.stderr.write('\n');
        console.log(
          `${projection.name}: ${result.applied} events replayed, up to position ${result.upToPosition}, into schema ${schema}`,
        );
        let same = true;
        if (result.upToPosition === live) {
          for (const d of await diffProjection(ledger.db, projection, result.tables)) {
            if (!d.compared) {
              console.log(
                `  ${d.table}: ${d.replayedRows} rows (depends on batch boundaries: not compared)`,
              );
              continue;
            }
            const equal = d.onlyLive === 0 && d.onlyReplayed === 0;
            same &&= equal;
            console.log(
              `  ${d.table}: ${equal ? 'same' : 'DIFFERENT'} (${d.liveRows} live rows, ${d.replayedRows} replayed; ${d.onlyLive} only live, ${d.onlyReplayed} only replayed)`,
            );
            if (!equal)
              console.log(
                `    live: ${JSON.stringify(d.samples.live)}\n    replayed: ${JSON.stringify(d.samples.replayed)}`,
              );
          }
          console.log(
            same
              ? 'REPLAYED: the live read model equals its rebuild from the log.'
              : 'The live read model differs from its rebuild from the log.',
          );
        } else {
          console.log(`  the live read model is at position ${live}: not compared`);
        }
        if (values.keep || explicit)
          console.log(`  kept: schema ${schema} (drop it with DROP SCHEMA ${schema} CASCADE)`);
        else await dropScratch(ledger.db, schema);
        return same ? 0 : 1;
      });
    }
    case 'keys': {
      return withLedger(async (ledger) => {
        for (const k of await sealingKeys(ledger.store)) {
          console.log(
            `key ${k.keyId}${k.previousKeyId === null ? ' (first)' : ` (endorsed by ${k.previousKeyId})`}`,
          );
          console.log(publicKeyPem(k.publicKey));
        }
        return 0;
      });
    }
    case 'rotate-key': {
      if (values.new === undefined) throw new UsageError('rotate-key needs --new <file>');
      const config = parseConfig(process.env);
      const { key: current } = await loadOrCreateSealingKey(config.LEDGER_SEAL_KEY_FILE);
      const { key: next } = await loadOrCreateSealingKey(values.new);
      return withLedger(async (ledger) => {
        const sealer = new Sealer(ledger.store, current);
        await sealer.registerKey();
        await sealer.rotateTo(next);
        console.log(
          `recorded key ${next.keyId}, endorsed by ${current.keyId}. Now set LEDGER_SEAL_KEY_FILE=${values.new}`,
        );
        return 0;
      });
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a position ≥ 1, got ${text}`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (
      error instanceof UsageError ||
      error instanceof ConfigurationError ||
      (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    ) {
      console.error(`${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(2);
  },
);
