// India: the Reserve Bank's rules for recovery agents (docs/domain.md §2.5).
import { ELECTRONIC, definePack } from '../pack.js';

export default definePack({
  jurisdiction: 'IN',
  name: 'India',
  citation: 'RBI/2022-23/108 (recovery agents)',
  caps: [],
  // The circular is about recovery agents of banks and NBFCs; microfinance loans have their own
  // framework (RBI Master Direction on microfinance loans, 2022), which this pack does not model.
  exemptLoanTypes: ['MICROFINANCE'],
  hours: [
    {
      // The circular names calls; we apply it to texts and emails too (stricter reading:
      // docs/domain.md §2 asks for the stricter reading where a rule is unclear).
      rule: 'quiet_hours',
      channels: ELECTRONIC,
      from: '08:00',
      to: '19:00',
      citation: 'RBI/2022-23/108: calls only 08:00–19:00 (applied to all electronic channels)',
    },
  ],
});
