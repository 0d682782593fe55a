// United Kingdom: the FCA's consumer credit sourcebook, chapter 7 (docs/domain.md §2.6).
import { definePack } from '../pack.js';

export default definePack({
  jurisdiction: 'GB',
  name: 'United Kingdom',
  // CONC 7.9: no contact at unreasonable times; the Reg F baseline 08:00–21:00 applies.
  // Disputes (CONC 7.14) and Breathing Space arrive as DISPUTE_UNDER_REVIEW / MORATORIUM restrictions.
  citation: 'FCA CONC 7.9, 7.14',
  caps: [],
  hours: [],
});
