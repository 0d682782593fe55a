// Massachusetts: the Attorney General's creditor rules and the Division of Banks' rules for
// collection agencies (docs/domain.md §2.4).
import { definePack } from '../pack.js';

export default definePack({
  jurisdiction: 'US-MA',
  name: 'Massachusetts',
  citation: '940 CMR 7.04(1)(f); 209 CMR 18.16(1)(d)',
  caps: [
    {
      // "initiated calls/texts/recorded messages ... to a residence or personal phone, per debt":
      // applied to every phone we reach (stricter than residence-only).
      rule: 'limit.ma_calls_texts',
      channels: ['VOICE', 'SMS'],
      scope: 'debt',
      max: 2,
      days: 7,
      citation: '940 CMR 7.04(1)(f); 209 CMR 18.16(1)(d)',
    },
  ],
  hours: [],
});
