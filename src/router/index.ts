// Public API of the channel router. See router.ts for the rule order and rules.ts for the tables.
export { createRouter, route, type Router } from './router.js';
export { explain } from './explain.js';
export {
  DEFAULT_CONFIG,
  HISTORY_DAYS,
  JURISDICTION_RULES,
  CEASE_PERMITTED_INTENTS,
  CLOSED_DEBT_ALLOWED_INTENTS,
  OPT_OUT_CONFIRMATION_INTENTS,
  HELP_REPLY_INTENTS,
} from './rules.js';
export {
  resolveLocation,
  areaCodeZones,
  countryZones,
  addressJurisdiction,
  type DebtorLocation,
  type ZoneSignal,
} from './location.js';
export * from './types.js';
