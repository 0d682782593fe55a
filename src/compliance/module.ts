// The compliance feature: facts a collector records (contact history, call consents,
// attorneys, Breathing Space, disputes, creditor roles) and what restrictions do at once.
import type { AppContext, ModuleHandle } from '../context.js';
import { setRestrictionHandler } from '../messaging/restrictions.js';
import { applyRestrictions } from './restrictions.js';
import { MORATORIUM_END_JOB, resumeEndedMoratoria } from './moratoria.js';

export async function startCompliance(ctx: AppContext): Promise<ModuleHandle> {
  setRestrictionHandler((c, change) => applyRestrictions(c, change.debtorId, change.cause));
  ctx.scheduler.define(MORATORIUM_END_JOB, async () => {
    const r = await resumeEndedMoratoria(ctx);
    if (r.moratoria) ctx.log.info(r, 'Breathing Space moratoria ended: reminders resumed');
  });
  await ctx.scheduler.every('1 minute', MORATORIUM_END_JOB, {}, { skipImmediate: true } as never);
  return { stop: async () => undefined };
}
