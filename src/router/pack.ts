// What a jurisdiction file in ./jurisdictions/ is written with: the pack type, a typed
// identity helper and the day and channel sets the statutes keep naming.

import type { Channel, IsoWeekday, JurisdictionPack } from './types.js';

/** Calls, texts and emails: what statutes mean by "contact" at a time of day. */
export const ELECTRONIC: readonly Channel[] = ['SMS', 'EMAIL', 'VOICE'];
export const MONDAY_TO_SATURDAY: readonly IsoWeekday[] = [1, 2, 3, 4, 5, 6];
export const SUNDAY: readonly IsoWeekday[] = [7];

/** Typed identity: gives autocompletion and type checks to a pack's object literal. */
export function definePack(pack: JurisdictionPack): JurisdictionPack {
  return pack;
}

export type { JurisdictionPack };
