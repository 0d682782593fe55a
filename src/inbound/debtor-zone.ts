// The debtor's time zone for reading dates in a reply ("tomorrow", "friday"):
// the debtor's explicit zone, else a contact point's, else the one its phone
// area code or address country points to (the router's own tables), else UTC.
// Only looked up when a reply names a day, so a plain reply costs nothing.
import type { AppContext } from '../context.js';
import { areaCodeZones, countryZones } from '../router/location.js';

export async function debtorZone(ctx: AppContext, debtorId: string, from: string | null): Promise<string> {
  const debtor = await ctx.db.debtor.findUnique({
    where: { id: debtorId },
    select: {
      timeZone: true,
      contactPoints: {
        select: { kind: true, value: true, timeZone: true, country: true },
        orderBy: { createdAt: 'asc' },
      },
    },
  });
  if (!debtor) return 'UTC';
  if (debtor.timeZone) return debtor.timeZone;
  const points = [...debtor.contactPoints].sort((a, b) => Number(b.value === from) - Number(a.value === from));
  for (const cp of points) if (cp.timeZone) return cp.timeZone;
  for (const cp of points) {
    const nanp = cp.kind === 'PHONE' ? /^\+1([2-9]\d{2})/.exec(cp.value) : null;
    const zones = nanp ? areaCodeZones(nanp[1]!) : undefined;
    if (zones?.length) return zones[0]!;
  }
  for (const cp of points) {
    if (cp.country) {
      const zones = countryZones(cp.country);
      if (zones.length) return zones[0]!;
    }
  }
  return 'UTC';
}
