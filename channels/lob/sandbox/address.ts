/** Lob address objects: validation of the editable form and the stored/returned form. */
import { prefixedHexId } from '../../kit/ids.js';

export class LobApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  toBody() {
    return { error: { message: this.message, status_code: this.statusCode, code: this.code } };
  }
}

export interface LobAddress {
  id: string;
  description: string | null;
  name: string | null;
  company: string | null;
  phone: string | null;
  email: string | null;
  address_line1: string;
  address_line2: string | null;
  address_city: string | null;
  address_state: string | null;
  address_zip: string | null;
  address_country: string;
  metadata: Record<string, string>;
  date_created: string;
  date_modified: string;
  deleted?: boolean;
  object: 'address';
}

const COUNTRY_NAMES: Record<string, string> = {
  US: 'UNITED STATES',
  CA: 'CANADA',
  GB: 'UNITED KINGDOM',
  IN: 'INDIA',
  DE: 'GERMANY',
  FR: 'FRANCE',
};

const optionalString = (value: unknown, field: string): string | null => {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new LobApiError(422, 'invalid', `${field} must be a string`);
  return value;
};

export function isUsAddress(address: Pick<LobAddress, 'address_country'>): boolean {
  return address.address_country === 'UNITED STATES';
}

/** Normalised key used to script per-address behaviour (undeliverable, returned to sender). */
export function addressKey(address: Pick<LobAddress, 'address_line1' | 'address_zip'>): string {
  return `${address.address_line1}|${address.address_zip ?? ''}`.toUpperCase().replace(/\s+/g, ' ').trim();
}

export function buildAddress(input: unknown, field: string): LobAddress {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new LobApiError(422, 'invalid', `${field} must be an address object or an address id`);
  }
  const raw = input as Record<string, unknown>;
  const name = optionalString(raw.name, `${field}.name`);
  const company = optionalString(raw.company, `${field}.company`);
  if (!name && !company)
    throw new LobApiError(422, 'invalid', `${field}.name is required when ${field}.company is not set`);
  const line1 = optionalString(raw.address_line1, `${field}.address_line1`);
  if (!line1) throw new LobApiError(422, 'invalid', `${field}.address_line1 is required`);
  if (line1.length > 64) throw new LobApiError(422, 'invalid', `${field}.address_line1 must be at most 64 characters`);
  const countryCode = (optionalString(raw.address_country, `${field}.address_country`) ?? 'US').toUpperCase();
  const country = COUNTRY_NAMES[countryCode] ?? countryCode;
  const city = optionalString(raw.address_city, `${field}.address_city`);
  const state = optionalString(raw.address_state, `${field}.address_state`);
  const zip = optionalString(raw.address_zip, `${field}.address_zip`);
  if (country === 'UNITED STATES') {
    if (!zip && !(city && state)) {
      throw new LobApiError(
        422,
        'invalid',
        `${field}.address_zip is required when ${field}.address_city and ${field}.address_state are not set`,
      );
    }
    if (zip && !/^\d{5}(-\d{4})?$/.test(zip))
      throw new LobApiError(422, 'invalid', `${field}.address_zip must be in a valid ZIP or ZIP+4 format`);
    if (state && !/^[A-Za-z]{2}$/.test(state))
      throw new LobApiError(422, 'invalid', `${field}.address_state must be a 2 letter state short-name code`);
  }
  const metadata = raw.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null)
    throw new LobApiError(422, 'invalid', `${field}.metadata must be an object`);
  const now = new Date().toISOString();
  return {
    id: prefixedHexId('adr_', 14),
    description: optionalString(raw.description, `${field}.description`),
    name: name?.toUpperCase() ?? null,
    company: company?.toUpperCase() ?? null,
    phone: optionalString(raw.phone, `${field}.phone`),
    email: optionalString(raw.email, `${field}.email`),
    address_line1: line1.toUpperCase(),
    address_line2: optionalString(raw.address_line2, `${field}.address_line2`)?.toUpperCase() ?? null,
    address_city: city?.toUpperCase() ?? null,
    address_state: state?.toUpperCase() ?? null,
    address_zip: zip,
    address_country: country,
    metadata: metadata as Record<string, string>,
    date_created: now,
    date_modified: now,
    object: 'address',
  };
}
