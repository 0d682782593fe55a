// Where is the debtor? Candidate time zones and jurisdictions from the snapshot.
//
// Reg F §1006.6(b)(1) judges convenience at the consumer's location; when the
// signals disagree (address vs. phone area code) only times convenient in every
// candidate zone are allowed, so we collect every zone any valid signal points to.

import { createRequire } from 'node:module';
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { getTimezonesForCountry } from 'countries-and-timezones';
import { NANP_AREA_CODE_TABLE, NANP_ZONE_NAMES } from './data/nanp-time-zones.js';
import { REGION_ZONES, US_STATE_NAMES } from './data/region-time-zones.js';
import { zoneClock, type ZoneClock } from './local-time.js';
import { BUILT_IN_PACKS } from './jurisdictions.js';
import type { ContactPointSnapshot, JurisdictionRule, Reason, RouterConfig, RouterSnapshot } from './types.js';

// zipcode-to-timezone is CommonJS without types: lookup(zip) → IANA zone | null.
const requireCjs = createRequire(import.meta.url);
const zipcodeToTimezone = requireCjs('zipcode-to-timezone') as { lookup(zip: string): string | null };

export interface ZoneSignal {
  zone: string;
  source:
    | 'debtor.timeZone'
    | 'address.timeZone'
    | 'address.postalCode'
    | 'address.region'
    | 'address.country'
    | 'phone.timeZone'
    | 'phone.areaCode'
    | 'phone.country'
    | 'jurisdiction'
    | 'config.fallback';
  contactPointId?: string;
}

export interface DebtorLocation {
  /** Distinct candidate zones; allowed hours are intersected over all of them. */
  zones: string[];
  clocks: ZoneClock[];
  signals: ZoneSignal[];
  /** Debtor-level jurisdictions (explicit, from addresses, else from phones), most specific codes. */
  jurisdictions: string[];
  /** Notes about unusable inputs (invalid zone names) to carry into every decision. */
  notes: Reason[];
  /** 'timezone.resolved' reason, built once per location. */
  zoneReason: Reason;
}

// ───────────────────────── area codes ─────────────────────────

const AREA_CODE_ZONES: ReadonlyMap<string, readonly string[]> = (() => {
  const map = new Map<string, readonly string[]>();
  for (const entry of NANP_AREA_CODE_TABLE.split(';')) {
    if (!entry) continue;
    const [areaCode, ids] = entry.split(':') as [string, string];
    map.set(
      areaCode,
      ids.split(',').map((id) => NANP_ZONE_NAMES[Number(id)] as string),
    );
  }
  return map;
})();

/** Zones a NANP area code covers, per libphonenumber's data; undefined when unknown. */
export function areaCodeZones(areaCode: string): readonly string[] | undefined {
  return AREA_CODE_ZONES.get(areaCode);
}

// ───────────────────────── phone numbers ─────────────────────────

const NANP_E164 = /^\+1[2-9]\d{2}[2-9]\d{6}$/;
// E.164 → ISO country, or null when libphonenumber finds none.
const phoneCountryCache = new Map<string, string | null>();
const PHONE_CACHE_LIMIT = 100_000;

/** Area code of a NANP number ("+1AAANXXXXXX"), else null. No parsing: the zone lookup needs only this. */
function nanpAreaCode(e164: string): string | null {
  return NANP_E164.test(e164) ? e164.slice(2, 5) : null;
}

/** Country of a phone number; parsing costs ~8 µs, so only when a caller needs the country. */
function phoneCountry(e164: string): string | null {
  const cached = phoneCountryCache.get(e164);
  if (cached !== undefined) return cached;
  const country = parsePhoneNumberFromString(e164)?.country ?? null;
  if (phoneCountryCache.size >= PHONE_CACHE_LIMIT) phoneCountryCache.clear();
  phoneCountryCache.set(e164, country);
  return country;
}

// ───────────────────────── countries and regions ─────────────────────────

const countryZoneCache = new Map<string, readonly string[]>();

/**
 * Zones of a country. When all of its zones keep the same offsets (DE: Berlin and
 * Büsingen's Zurich) one representative is enough; otherwise every zone.
 */
export function countryZones(country: string): readonly string[] {
  const code = country.toUpperCase();
  const cached = countryZoneCache.get(code);
  if (cached) return cached;
  const details = getTimezonesForCountry(code) ?? [];
  let zones: readonly string[] = [];
  if (details.length > 0) {
    const first = details[0];
    const uniform =
      first !== undefined && details.every((z) => z.utcOffset === first.utcOffset && z.dstOffset === first.dstOffset);
    zones = uniform ? [first.name] : details.map((z) => z.name);
  }
  countryZoneCache.set(code, zones);
  return zones;
}

// ───────────────────────── what the packs say about places ─────────────────────────

/** The packs' location data (JurisdictionRule.location), indexed once per pack list. */
interface PlaceIndex {
  /** Country → upper-case region name → region code ("CA" → "ONTARIO" → "ON"). */
  regionNames: Map<string, Map<string, string>>;
  /** Region packs ("CA-ON") with postal codes, to place an address that names no region. */
  regionsByPostal: { country: string; region: string; postalCodes: RegExp }[];
  /** Locality packs ("US-NY-NYC"): selected by postal code within their country and region. */
  localities: { code: string; country: string; region: string; postalCodes: RegExp }[];
  /** NANP area code → jurisdiction code. */
  areaCodes: Map<string, string>;
  /** Zones by postal code, per pack code. */
  postalZones: { code: string; postalCodes: RegExp; zones: readonly string[] }[];
}

const placeIndexes = new WeakMap<readonly JurisdictionRule[], PlaceIndex>();

function placeIndex(packs: readonly JurisdictionRule[]): PlaceIndex {
  let index = placeIndexes.get(packs);
  if (index) return index;
  index = { regionNames: new Map(), regionsByPostal: [], localities: [], areaCodes: new Map(), postalZones: [] };
  for (const pack of packs) {
    const where = pack.location;
    if (!where) continue;
    const [country, region, locality] = pack.jurisdiction.split('-') as [
      string,
      string | undefined,
      string | undefined,
    ];
    if (region && !locality) {
      const names = index.regionNames.get(country) ?? new Map<string, string>();
      index.regionNames.set(country, names);
      for (const name of where.regionNames ?? []) names.set(name.trim().toUpperCase(), region);
      if (where.postalCodes) index.regionsByPostal.push({ country, region, postalCodes: where.postalCodes });
    }
    if (region && locality && where.postalCodes)
      index.localities.push({ code: pack.jurisdiction, country, region, postalCodes: where.postalCodes });
    for (const areaCode of where.areaCodes ?? []) index.areaCodes.set(areaCode, pack.jurisdiction);
    for (const entry of where.zonesByPostalCode ?? []) index.postalZones.push({ code: pack.jurisdiction, ...entry });
  }
  placeIndexes.set(packs, index);
  return index;
}

function normaliseRegion(country: string, region: string | null | undefined, index: PlaceIndex): string | null {
  if (!region) return null;
  const upper = region.trim().toUpperCase();
  if (country === 'US') return US_STATE_NAMES[upper] ?? upper;
  return index.regionNames.get(country)?.get(upper) ?? upper;
}

function regionZones(country: string, region: string | null): readonly string[] | undefined {
  if (!region) return undefined;
  return REGION_ZONES[country]?.[region];
}

const US_ZIP = /^(\d{5})(?:-?\d{4})?$/;

/** The five-digit ZIP of a US-style postal code ("12207", "12207-1234"), else null. */
function usZip(postalCode: string | null): string | null {
  if (!postalCode) return null;
  const trimmed = postalCode.trim();
  return US_ZIP.test(trimmed) ? trimmed.slice(0, 5) : null;
}

function addressCountry(cp: ContactPointSnapshot, index: PlaceIndex): string | null {
  if (cp.country) return cp.country.toUpperCase();
  // A bare 5-digit ZIP with no country is a US address in this system's data.
  if (usZip(cp.postalCode)) return 'US';
  // A postal code only one pack's country uses ("K1A 0B1": Canada).
  const postal = cp.postalCode?.trim();
  if (postal) for (const r of index.regionsByPostal) if (r.postalCodes.test(postal)) return r.country;
  return null;
}

/** The address's subdivision: its region field, else what a pack's postal codes say. */
function addressRegion(cp: ContactPointSnapshot, country: string, index: PlaceIndex): string | null {
  const region = normaliseRegion(country, cp.region, index);
  if (region) return region;
  const postal = cp.postalCode?.trim();
  if (!postal) return null;
  for (const r of index.regionsByPostal) if (r.country === country && r.postalCodes.test(postal)) return r.region;
  return null;
}

/** The most specific jurisdiction code a postal address puts the debtor in. */
export function addressJurisdiction(
  cp: ContactPointSnapshot,
  packs: readonly JurisdictionRule[] = BUILT_IN_PACKS,
): string | null {
  return addressPlace(cp, placeIndex(packs))?.code ?? null;
}

function addressPlace(
  cp: ContactPointSnapshot,
  index: PlaceIndex,
): { country: string; region: string | null; code: string } | null {
  const country = addressCountry(cp, index);
  if (!country) return null;
  const region = addressRegion(cp, country, index);
  const postal = cp.postalCode?.trim();
  if (postal) {
    for (const l of index.localities) {
      if (l.country === country && (region === null || region === l.region) && l.postalCodes.test(postal))
        return { country, region: l.region, code: l.code };
    }
  }
  return { country, region, code: region ? `${country}-${region}` : country };
}

function jurisdictionZones(code: string): readonly string[] {
  const [country, region] = code.split('-');
  if (!country) return [];
  return regionZones(country, region ?? null) ?? countryZones(country);
}

// ───────────────────────── resolution ─────────────────────────

function addressSignals(cp: ContactPointSnapshot, index: PlaceIndex, out: ZoneSignal[]): void {
  if (cp.timeZone && zoneClock(cp.timeZone)) {
    out.push({ zone: cp.timeZone, source: 'address.timeZone', contactPointId: cp.id });
    return;
  }
  const place = addressPlace(cp, index);
  if (!place) return;
  const { country } = place;
  if (country === 'US' && cp.postalCode) {
    const zip = usZip(cp.postalCode);
    const zone = zip ? zipcodeToTimezone.lookup(zip) : null;
    if (zone) {
      out.push({ zone, source: 'address.postalCode', contactPointId: cp.id });
      return;
    }
  }
  const postal = cp.postalCode?.trim();
  if (postal && index.postalZones.length > 0) {
    for (const entry of index.postalZones) {
      if (!jurisdictionMatches(entry.code, place.code) || !entry.postalCodes.test(postal)) continue;
      for (const zone of entry.zones) out.push({ zone, source: 'address.postalCode', contactPointId: cp.id });
      return;
    }
  }
  const byRegion = regionZones(country, place.region);
  if (byRegion) {
    for (const zone of byRegion) out.push({ zone, source: 'address.region', contactPointId: cp.id });
    return;
  }
  for (const zone of countryZones(country)) out.push({ zone, source: 'address.country', contactPointId: cp.id });
}

function phoneSignals(cp: ContactPointSnapshot, addressCountries: readonly string[], out: ZoneSignal[]): void {
  if (cp.timeZone && zoneClock(cp.timeZone)) {
    out.push({ zone: cp.timeZone, source: 'phone.timeZone', contactPointId: cp.id });
    return;
  }
  const areaCode = nanpAreaCode(cp.value);
  const byAreaCode = areaCode ? areaCodeZones(areaCode) : undefined;
  if (byAreaCode) {
    for (const zone of byAreaCode) out.push({ zone, source: 'phone.areaCode', contactPointId: cp.id });
    return;
  }
  // A country-level phone signal is coarser than an address in the same country; it only
  // adds information when it points elsewhere (or when there is no address at all).
  const country = phoneCountry(cp.value);
  if (!country || addressCountries.includes(country)) return;
  for (const zone of countryZones(country)) out.push({ zone, source: 'phone.country', contactPointId: cp.id });
}

function normaliseJurisdiction(code: string): string {
  return code.trim().toUpperCase();
}

/** Append `value` unless already present: insertion-ordered sets of a handful of codes, without a Set per decision. */
function addOnce(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

/** Resolve candidate zones and debtor-level jurisdictions. Pure; callers may memoise per snapshot. */
export function resolveLocation(snapshot: RouterSnapshot, config: RouterConfig): DebtorLocation {
  const notes: Reason[] = [];
  const signals: ZoneSignal[] = [];
  const { debtor, contactPoints } = snapshot;

  // Jurisdictions: explicit, plus every address (stricter: each address's rules apply);
  // phones only when nothing else says where the debtor is.
  const index = placeIndex(config.jurisdictionRules);
  const jurisdictions: string[] = [];
  if (debtor.jurisdiction) addOnce(jurisdictions, normaliseJurisdiction(debtor.jurisdiction));
  const addressCountries: string[] = [];
  for (const cp of contactPoints) {
    if (cp.kind !== 'ADDRESS' || !cp.valid) continue;
    const place = addressPlace(cp, index);
    if (!place) continue;
    addOnce(jurisdictions, place.code);
    addOnce(addressCountries, place.country);
  }
  if (jurisdictions.length === 0) {
    for (const cp of contactPoints) {
      if (cp.kind !== 'PHONE' || !cp.valid) continue;
      // A pack's area code names the subdivision ("+1 416" → CA-ON); else the country.
      const areaCode = index.areaCodes.size > 0 ? nanpAreaCode(cp.value) : null;
      const code = (areaCode && index.areaCodes.get(areaCode)) || phoneCountry(cp.value);
      if (code) addOnce(jurisdictions, code);
    }
  }

  if (debtor.timeZone) {
    if (zoneClock(debtor.timeZone)) {
      signals.push({ zone: debtor.timeZone, source: 'debtor.timeZone' });
    } else {
      notes.push({
        rule: 'timezone.invalid',
        detail: `Debtor time zone "${debtor.timeZone}" is not an IANA zone; derived zones used instead.`,
      });
    }
  }
  if (signals.length === 0) {
    // Addresses first, then phones: the order signals (and so zones) are listed in.
    for (const cp of contactPoints) if (cp.kind === 'ADDRESS' && cp.valid) addressSignals(cp, index, signals);
    for (const cp of contactPoints) if (cp.kind === 'PHONE' && cp.valid) phoneSignals(cp, addressCountries, signals);
    for (const cp of contactPoints) {
      if (cp.valid && cp.timeZone && !zoneClock(cp.timeZone)) {
        notes.push({
          rule: 'timezone.invalid',
          contactPointId: cp.id,
          detail: `Contact point time zone "${cp.timeZone}" is not an IANA zone; ignored.`,
        });
      }
    }
  }
  if (signals.length === 0) {
    for (const code of jurisdictions) {
      for (const zone of jurisdictionZones(code)) signals.push({ zone, source: 'jurisdiction' });
    }
  }
  if (signals.length === 0) {
    for (const zone of config.fallbackTimeZones) signals.push({ zone, source: 'config.fallback' });
  }

  const zones: string[] = [];
  const clocks: ZoneClock[] = [];
  for (const note of notes) Object.freeze(note);
  for (const signal of signals) {
    if (zones.includes(signal.zone)) continue;
    const clock = zoneClock(signal.zone);
    if (!clock) continue;
    zones.push(signal.zone);
    clocks.push(clock);
  }
  return { zones, clocks, signals, jurisdictions, notes, zoneReason: zoneReason(zones, signals) };
}

function zoneReason(zones: readonly string[], signals: readonly ZoneSignal[]): Reason {
  let detail = zones.length > 1 ? 'Candidate zones ' : 'Time zone ';
  for (let z = 0; z < zones.length; z++) {
    const zone = zones[z] as string;
    let sources = '';
    for (const s of signals) {
      if (s.zone !== zone) continue;
      sources += `${sources ? ', ' : ''}${s.source}${s.contactPointId ? ` ${s.contactPointId}` : ''}`;
    }
    detail += `${z > 0 ? '; ' : ''}${zone} (${sources})`;
  }
  detail += zones.length > 1 ? '; only times allowed in every one are used.' : zones.length === 0 ? 'unknown.' : '.';
  // Shared by every decision of this location: frozen so no consumer can alter another's.
  return Object.freeze({ rule: 'timezone.resolved', detail });
}

/** Does a rule written for `ruleCode` apply to a debtor in `code`? ("US-NY" covers "US-NY-NYC".) */
export function jurisdictionMatches(ruleCode: string, code: string): boolean {
  return code === ruleCode || code.startsWith(`${ruleCode}-`);
}
