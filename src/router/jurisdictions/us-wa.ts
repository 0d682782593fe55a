// Washington: the Collection Agency Act (docs/domain.md §2.4).
import { ELECTRONIC, definePack } from '../pack.js';

export default definePack({
  jurisdiction: 'US-WA',
  name: 'Washington',
  citation: 'RCW 19.16.250(13)',
  caps: [
    {
      // "more than three times in a single week": counted per debtor across all channels,
      // rolling 7 days (stricter than per debt or per calendar week).
      rule: 'limit.wa_communications',
      channels: 'ALL',
      scope: 'debtor',
      max: 3,
      days: 7,
      citation: 'RCW 19.16.250(13)(a)',
    },
    {
      rule: 'limit.wa_work',
      channels: 'ALL',
      scope: 'debtor',
      max: 1,
      days: 7,
      workOnly: true,
      citation: 'RCW 19.16.250(13)(b)',
    },
  ],
  // Home contact 07:30–21:00. Intersected with Reg F's 08:00 start it never binds in the
  // morning; kept so the table reads like the statute and binds if the baseline is relaxed.
  hours: [
    {
      rule: 'quiet_hours',
      channels: ELECTRONIC,
      from: '07:30',
      to: '21:00',
      citation: 'RCW 19.16.250(13)(c)',
    },
  ],
});
