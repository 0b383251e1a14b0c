import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '../../src/domain/errors/catalogue.js';

describe('error catalogue', () => {
  it('lists exactly the codes and statuses that docs/errors.md documents', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const documented = Object.fromEntries(
      [...doc.matchAll(/^\|\s*`(LEDGER_ERR_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map(
        (m): [string, number] => [m[1] ?? '', Number(m[2])],
      ),
    );
    const catalogued = Object.fromEntries(
      Object.entries(errorCatalogue).map(([code, { status }]) => [code, status]),
    );
    expect(documented).toEqual(catalogued);
  });
});
