import type { z } from 'zod';
import {
  districtSchema,
  siteSchema,
  vehicleSchema,
  type District,
  type Site,
  type Vehicle,
} from '../domain/master-data/master-data.js';
import { districtStreamId, siteStreamId, vehicleStreamId } from '../domain/master-data/events.js';
import { EVENT_SCHEMA_VERSION } from '../domain/weighing/events.js';
import type { EventStore, JsonObject } from '../store/port.js';
import { canonicalJson, derivedEventId } from './ids.js';

export interface Recorded {
  readonly streamId: string;
  readonly revision: number;
  readonly position: number;
  /** True when the same master data was registered before: nothing new was written. */
  readonly duplicate: boolean;
}

/** How long a looked-up site or vehicle is reused before it is read again. */
const CACHE_MS = 5_000;

/**
 * Registers and looks up districts, sites and vehicles (each its own stream). Registration is
 * idempotent: the event id derives from the content, so registering the same body twice
 * changes nothing, and other content under the same id is refused (409).
 */
export class MasterData {
  readonly #store: EventStore;
  readonly #cache = new Map<string, { value: unknown; until: number }>();

  constructor(store: EventStore) {
    this.#store = store;
  }

  registerDistrict(district: District, actor: string): Promise<Recorded> {
    return this.#register(
      districtStreamId(district.districtId),
      'DistrictRegistered',
      district,
      actor,
    );
  }

  registerSite(site: Site, actor: string): Promise<Recorded> {
    return this.#register(siteStreamId(site.siteId), 'SiteRegistered', site, actor);
  }

  registerVehicle(vehicle: Vehicle, actor: string): Promise<Recorded> {
    return this.#register(vehicleStreamId(vehicle.plate), 'VehicleRegistered', vehicle, actor);
  }

  site(siteId: string): Promise<Site | undefined> {
    return this.#latest(siteStreamId(siteId), siteSchema);
  }

  vehicle(plate: string): Promise<Vehicle | undefined> {
    return this.#latest(vehicleStreamId(plate), vehicleSchema);
  }

  district(districtId: string): Promise<District | undefined> {
    return this.#latest(districtStreamId(districtId), districtSchema);
  }

  /** Looks up many at once (one read for those not cached). */
  async sites(siteIds: Iterable<string>): Promise<Map<string, Site>> {
    return this.#many([...siteIds], siteStreamId, siteSchema);
  }

  /**
   * Sites as the log held them at a global position (the last registration at or before it),
   * not cached: what a figure computed as of that position must use, so that it can be
   * reproduced from the log up to that position.
   */
  async sitesAsOf(siteIds: Iterable<string>, position: number): Promise<Map<string, Site>> {
    const ids = [...new Set(siteIds)];
    const streams = await this.#store.readStreams(ids.map(siteStreamId));
    const found = new Map<string, Site>();
    for (const id of ids) {
      const events = streams.get(siteStreamId(id)) ?? [];
      const last = events.filter((e) => e.position <= position).at(-1);
      if (last !== undefined) found.set(id, siteSchema.parse(last.data));
    }
    return found;
  }

  async vehicles(plates: Iterable<string>): Promise<Map<string, Vehicle>> {
    return this.#many([...plates], vehicleStreamId, vehicleSchema);
  }

  async #register(streamId: string, type: string, body: object, actor: string): Promise<Recorded> {
    const id = derivedEventId('master-data', streamId, canonicalJson(body));
    const result = await this.#store.append(
      streamId,
      [
        {
          id,
          type,
          data: body as JsonObject,
          metadata: { actor, schemaVersion: EVENT_SCHEMA_VERSION },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    this.#cache.delete(streamId);
    return {
      streamId,
      revision: result.nextExpectedRevision,
      position: result.position,
      duplicate: result.idempotent,
    };
  }

  async #latest<T>(streamId: string, schema: z.ZodType<T>): Promise<T | undefined> {
    return (await this.#many([streamId], (id) => id, schema)).get(streamId);
  }

  async #many<T>(
    keys: string[],
    streamOf: (key: string) => string,
    schema: z.ZodType<T>,
  ): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    const missing: string[] = [];
    const now = Date.now();
    for (const key of new Set(keys)) {
      const cached = this.#cache.get(streamOf(key));
      if (cached !== undefined && cached.until > now) found.set(key, cached.value as T);
      else missing.push(key);
    }
    if (missing.length === 0) return found;
    const streams = await this.#store.readStreams(missing.map(streamOf));
    for (const key of missing) {
      const events = streams.get(streamOf(key)) ?? [];
      // The latest registration or update is the master data in force.
      const last = events.at(-1);
      if (last === undefined) continue; // not cached: it may be registered any moment
      const value = schema.parse(last.data);
      this.#cache.set(streamOf(key), { value, until: now + CACHE_MS });
      found.set(key, value);
    }
    return found;
  }
}
