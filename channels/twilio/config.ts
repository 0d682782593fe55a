// Twilio's environment variables and the settings resolved from them. With
// no credentials the sandbox runs under a generated account SID and auth
// token: it signs its webhooks with that token exactly as Twilio does, so the
// gateway verifies them the same way in both modes.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { apiBaseUrl } from '../kit/env.js';
import { resolveMode, type BaseSettings, type SettingsInput } from '../types.js';

export const twilioEnv = {
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex characters')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TWILIO_MESSAGING_SERVICE_SID: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/, 'must be MG followed by 32 hex characters')
    .optional(),
  TWILIO_API_BASE_URL: apiBaseUrl,
  TWILIO_FROM: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number like +15005550006')
    .optional(),
};

export interface TwilioSettings extends BaseSettings {
  accountSid: string;
  authToken: string;
  messagingServiceSid?: string;
  from: string;
  /** Live only: another API host. */
  apiBaseUrl?: string;
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
const hex = (n: number) => randomBytes(n).toString('hex');

export function twilioConfigured(env: Record<string, unknown>): boolean {
  return Boolean(
    str(env.TWILIO_ACCOUNT_SID) &&
      str(env.TWILIO_AUTH_TOKEN) &&
      (str(env.TWILIO_FROM) || str(env.TWILIO_MESSAGING_SERVICE_SID)),
  );
}

export function twilioSettings(input: SettingsInput): TwilioSettings {
  const { env } = input;
  return {
    mode: resolveMode(
      input,
      twilioConfigured(env),
      'Twilio (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID)',
    ),
    accountSid: str(env.TWILIO_ACCOUNT_SID) ?? `AC${hex(16)}`,
    authToken: str(env.TWILIO_AUTH_TOKEN) ?? hex(16),
    messagingServiceSid: str(env.TWILIO_MESSAGING_SERVICE_SID),
    from: str(env.TWILIO_FROM) ?? '+15005550006',
    apiBaseUrl: str(env.TWILIO_API_BASE_URL),
  };
}
