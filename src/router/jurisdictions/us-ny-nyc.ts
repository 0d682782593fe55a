// New York City: the Department of Consumer and Worker Protection's debt collection rule
// (docs/domain.md §2.4). Effective 2026-09-01; applied regardless of the date because it only
// ever narrows contact.
import { definePack } from '../pack.js';

export default definePack({
  jurisdiction: 'US-NY-NYC',
  name: 'New York City',
  citation: 'NYC DCWP rule 6 RCNY 5-77',
  caps: [
    {
      rule: 'limit.nyc_attempts',
      channels: 'ALL',
      scope: 'debt',
      max: 3,
      days: 7,
      citation: '6 RCNY 5-77 (3 attempts per 7 days across channels, per account)',
    },
  ],
  hours: [],
  // "email and text only with written consent": only GRANTED counts.
  writtenConsent: { rule: 'consent.nyc_written_required', channels: ['EMAIL', 'SMS'], citation: '6 RCNY 5-77' },
  location: {
    // ZIP3 prefixes of the five boroughs (Manhattan 100–102, Staten Island 103, Bronx 104,
    // Queens 110/111/113/114/116, Brooklyn 112), five digits with an optional +4. 110 also
    // covers a few Nassau towns; treating them as NYC is the stricter reading.
    postalCodes: /^(?:10[0-4]|11[0-46])\d{2}(?:-?\d{4})?$/,
  },
});
