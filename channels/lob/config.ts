// Lob's environment variables and the settings resolved from them. Without
// an API key the sandbox runs, signing its tracking webhooks with
// LOB_WEBHOOK_SECRET (or a generated one) exactly as Lob does.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { apiBaseUrl } from '../kit/env.js';
import { resolveMode, type BaseSettings, type SettingsInput } from '../types.js';

export const lobEnv = {
  LOB_API_KEY: z.string().min(10).optional(),
  LOB_WEBHOOK_SECRET: z.string().min(10).optional(),
  LOB_API_BASE_URL: apiBaseUrl,
};

export interface LobSettings extends BaseSettings {
  apiKey: string;
  webhookSecret: string;
  /** Live only: another API host (…/v1). */
  apiBaseUrl?: string;
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

export function lobSettings(input: SettingsInput): LobSettings {
  const apiKey = str(input.env.LOB_API_KEY);
  return {
    mode: resolveMode(input, Boolean(apiKey), 'Lob (LOB_API_KEY)'),
    apiKey: apiKey ?? `test_${randomBytes(16).toString('hex')}`,
    webhookSecret: str(input.env.LOB_WEBHOOK_SECRET) ?? randomBytes(16).toString('hex'),
    apiBaseUrl: str(input.env.LOB_API_BASE_URL),
  };
}
