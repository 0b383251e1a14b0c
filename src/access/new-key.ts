import { z } from 'zod';
import { idSchema } from '../domain/master-data/master-data.js';
import { roles } from './roles.js';

const ids = z.array(idSchema).transform((list) => [...new Set(list)]);

/**
 * What a new key is for: its role, a station's sites, a regulator's districts (none: city-wide)
 * and a label for people. The CLI (`npm run keys -- create`) and `POST /v1/keys` both parse it.
 */
export const newKeySchema = z
  .object({
    role: z.enum(roles, { message: `must be one of ${roles.join(', ')}` }),
    sites: ids.optional(),
    districts: ids.optional(),
    /** Who or what holds the key ("weighbridge PC at ts-lixia-1"), shown in lists. */
    label: z
      .string()
      .max(200, 'must be at most 200 characters')
      // PostgreSQL text holds neither NUL nor a lone surrogate (it would store U+FFFD instead).
      .refine(
        (s) => !s.includes('\u0000') && !/[\uD800-\uDFFF]/u.test(s),
        'must not contain NUL or a lone UTF-16 surrogate',
      )
      .default(''),
  })
  .strict()
  .superRefine((key, ctx) => {
    if (key.role === 'station' && (key.sites ?? []).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['sites'], message: 'a station key needs its sites' });
    }
    if (key.role !== 'station' && key.sites !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['sites'], message: 'only station keys have sites' });
    }
    if (key.role !== 'regulator' && key.districts !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['districts'],
        message: 'only regulator keys are limited to districts',
      });
    }
  })
  .transform((key) => ({
    role: key.role,
    sites: key.sites ?? [],
    districts: key.districts ?? [],
    label: key.label,
  }));

export type NewKey = z.output<typeof newKeySchema>;
