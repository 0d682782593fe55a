// What the loaded templates offer, per intent: the channels it ships on and
// the locales of each. Read from the registry (what is on disk and validated),
// not from the static matrix, so an added locale or channel shows up as is.
import { INTENTS, isIntent, isTemplateChannel, type Intent, type TemplateChannel } from './intents.js';
import type { TemplateRegistry } from './registry.js';

export interface IntentListing {
  intent: Intent;
  /** Channels in the API's spelling (SMS, EMAIL, VOICE, LETTER), in the order of TEMPLATE_CHANNELS. */
  channels: { channel: Uppercase<TemplateChannel>; locales: string[] }[];
  /** Every locale the intent has on at least one channel. */
  locales: string[];
}

export function intentCatalog(registry: TemplateRegistry): IntentListing[] {
  const found = new Map<Intent, Map<TemplateChannel, Set<string>>>();
  for (const id of registry.list()) {
    const [locale, intent, channel] = id.split('/');
    if (!locale || !isIntent(intent) || !isTemplateChannel(channel)) continue;
    const channels = found.get(intent) ?? new Map<TemplateChannel, Set<string>>();
    found.set(intent, channels);
    channels.set(channel, (channels.get(channel) ?? new Set<string>()).add(locale));
  }
  const order: readonly TemplateChannel[] = ['sms', 'email', 'voice', 'letter'];
  return INTENTS.filter((i) => found.has(i)).map((intent) => {
    const channels = found.get(intent)!;
    const present = order.filter((c) => channels.has(c));
    return {
      intent,
      channels: present.map((c) => ({
        channel: c.toUpperCase() as Uppercase<TemplateChannel>,
        locales: [...channels.get(c)!].sort(),
      })),
      locales: [...new Set(present.flatMap((c) => [...channels.get(c)!]))].sort(),
    };
  });
}
