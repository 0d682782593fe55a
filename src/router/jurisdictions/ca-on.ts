// Ontario: Collection and Debt Settlement Services Act, R.S.O. 1990, c. C.14, and its general
// regulation, R.R.O. 1990, Reg. 74, ss. 20–22 (docs/domain.md §2.7). Where the text leaves a
// choice, the stricter reading is taken and said below.
import { ELECTRONIC, MONDAY_TO_SATURDAY, SUNDAY, definePack } from '../pack.js';

const REG = 'R.R.O. 1990, Reg. 74 (Collection and Debt Settlement Services Act)';

export default definePack({
  jurisdiction: 'CA-ON',
  name: 'Ontario',
  citation: REG,

  // s. 21: no demand and no other attempt to collect before a private written notice (creditor,
  // balance, agency and its authority) is sent by ordinary mail, and no call before six days have
  // passed since. Stricter: the wait holds every channel, not only calls. The mailing is a fact
  // the caller passes in (DebtSnapshot.notices.ca_on_collection_notice); the notice itself is the
  // request with that intent on LETTER.
  notice: {
    rule: 'notice.ca_on_written_notice',
    name: 'ca_on_collection_notice',
    waitDays: 6,
    citation: `${REG}, s. 21 (written notice by ordinary mail, then 6 days)`,
  },

  caps: [
    {
      // "After the first conversation, at most 3 contacts in 7 days without the debtor's consent".
      // s. 20: "contact" includes email and voicemail; letters are left out (ordinary letters do
      // not count). An unanswered call without a message does not count either, but the history
      // records a placed call as kind 'call' whether or not someone answered, so every placed call
      // counts (stricter). Per debtor across debts, rolling 7 days (stricter than per debt or week).
      rule: 'limit.ca_on_contacts',
      channels: ELECTRONIC,
      scope: 'debtor',
      max: 3,
      days: 7,
      onlyAfterConversation: true,
      waivableByConsent: true,
      citation: `${REG}, s. 22: at most 3 contacts in 7 days after the first conversation, without the debtor's consent`,
    },
  ],

  // Contact only 07:00–21:00 Monday to Saturday and 13:00–17:00 on Sunday, local time. With the
  // Reg F baseline (08:00–21:00, applied to every debtor) the 07:00 start does not bind; the
  // Sunday window does.
  hours: [
    {
      rule: 'quiet_hours',
      channels: ELECTRONIC,
      days: MONDAY_TO_SATURDAY,
      from: '07:00',
      to: '21:00',
      citation: `${REG}, s. 22: 07:00–21:00 Monday to Saturday`,
    },
    {
      rule: 'quiet_hours',
      channels: ELECTRONIC,
      days: SUNDAY,
      from: '13:00',
      to: '17:00',
      citation: `${REG}, s. 22: 13:00–17:00 on Sunday`,
    },
  ],

  noContactDays: [
    {
      // "Never on a statutory holiday". The regulation does not list them; the stricter reading
      // takes every holiday of the Legislation Act, 2006, ss. 87–88 (a superset of the Employment
      // Standards Act's nine public holidays: it adds Easter Monday and Remembrance Day) apart
      // from Sunday, for which the regulation sets its own hours. The Civic Holiday (first Monday
      // of August) is a municipal holiday, not a statutory one.
      rule: 'quiet_hours.holiday',
      channels: ELECTRONIC,
      holidays: {
        country: 'CA',
        state: 'ON',
        names: [
          "New Year's Day",
          'Family Day',
          'Good Friday',
          'Easter Monday',
          'Victoria Day',
          'Canada Day',
          'Labour Day',
          'Thanksgiving',
          'Remembrance Day',
          'Christmas Day',
          'Boxing Day',
        ],
        // Legislation Act, 2006, s. 88: New Year's Day on a Sunday makes the Monday a holiday too;
        // Canada Day on a Sunday falls on July 2 (both days kept: stricter); Christmas Day on a
        // Saturday or Sunday makes the following Monday or Tuesday a holiday too.
        substitutes: [
          { name: "New Year's Day", onWeekday: 7, addDays: 1 },
          { name: 'Canada Day', onWeekday: 7, addDays: 1 },
          { name: 'Christmas Day', onWeekday: 6, addDays: 2 },
          { name: 'Christmas Day', onWeekday: 7, addDays: 2 },
        ],
      },
      citation: `${REG}, s. 22: no contact on a statutory holiday (Legislation Act, 2006, ss. 87–88)`,
    },
  ],

  location: {
    regionNames: ['ONTARIO'],
    // Canada Post: forward sortation areas beginning K, L, M, N or P lie in Ontario.
    postalCodes: /^[KLMNP]\d[A-Z] ?\d[A-Z]\d$/i,
    // Area codes of Ontario (CNAC numbering plan areas), for a debtor known only by phone.
    areaCodes: [
      '226',
      '249',
      '289',
      '343',
      '365',
      '382',
      '416',
      '437',
      '519',
      '548',
      '613',
      '647',
      '683',
      '705',
      '742',
      '753',
      '807',
      '905',
    ],
    // Most of Ontario keeps Eastern time; the Kenora and Rainy River districts keep Central time
    // and Atikokan Eastern Standard all year (IANA zone1970.tab). FSAs that mix them get both.
    zonesByPostalCode: [
      { postalCodes: /^(?:P0W|P0X|P8T|P9A|P9N)/i, zones: ['America/Winnipeg'] },
      { postalCodes: /^P0V/i, zones: ['America/Winnipeg', 'America/Toronto'] },
      { postalCodes: /^P0T/i, zones: ['America/Toronto', 'America/Atikokan'] },
      { postalCodes: /^[KLMNP]/i, zones: ['America/Toronto'] },
    ],
  },
});
