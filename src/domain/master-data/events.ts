import type { z } from 'zod';
import { districtSchema, siteSchema, vehicleSchema } from './master-data.js';

/**
 * Master data is event-sourced like everything else, so an auditor can see which rules a
 * weighing was checked against. Version 1 of each event; a change of shape gets a new version.
 */
export const masterDataEventSchemas = {
  DistrictRegistered: districtSchema,
  SiteRegistered: siteSchema,
  /** A new version of the site's master data (capacity, accepted materials, permit…). */
  SiteUpdated: siteSchema,
  VehicleRegistered: vehicleSchema,
  VehicleUpdated: vehicleSchema,
} as const;

export type MasterDataEventType = keyof typeof masterDataEventSchemas;

export const districtStreamId = (districtId: string) => `district-${districtId}`;
export const siteStreamId = (siteId: string) => `site-${siteId}`;
export const vehicleStreamId = (plate: string) => `vehicle-${plate}`;

export type DistrictEvent = { type: 'DistrictRegistered'; data: z.infer<typeof districtSchema> };
export type SiteEvent =
  | { type: 'SiteRegistered'; data: z.infer<typeof siteSchema> }
  | { type: 'SiteUpdated'; data: z.infer<typeof siteSchema> };
export type VehicleEvent =
  | { type: 'VehicleRegistered'; data: z.infer<typeof vehicleSchema> }
  | { type: 'VehicleUpdated'; data: z.infer<typeof vehicleSchema> };
