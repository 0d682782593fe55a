// Telnyx's environment variables and the settings resolved from them. With
// no API key the sandbox runs, with a generated ed25519 key pair: the sandbox
// signs with the private half, the gateway verifies with the public half,
// exactly as with Telnyx (whose public key is shown in Mission Control).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { resolveMode, type BaseSettings, type SettingsInput } from '../types.js';

export const telnyxEnv = {
  TELNYX_API_KEY: z.string().min(10, 'must be at least 10 characters').optional(),
  // Mission Control → Keys & Credentials → Public Key: base64 of the 32-byte ed25519 key.
  TELNYX_PUBLIC_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be the base64 ed25519 public key from Mission Control (44 characters)')
    .optional(),
  TELNYX_FROM: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number like +15550001111')
    .optional(),
  TELNYX_MESSAGING_PROFILE_ID: z.string().uuid('must be the messaging profile id (a UUID)').optional(),
};

export interface TelnyxSettings extends BaseSettings {
  apiKey: string;
  /** base64 raw ed25519 public key: what webhooks are verified with. */
  publicKey: string;
  from: string;
  messagingProfileId?: string;
  /** Sandbox only: the private half it signs webhooks with. */
  privateKeyPem?: string;
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

export function telnyxSettings(input: SettingsInput): TelnyxSettings {
  const apiKey = str(input.env.TELNYX_API_KEY);
  const publicKey = str(input.env.TELNYX_PUBLIC_KEY);
  const from = str(input.env.TELNYX_FROM);
  const mode = resolveMode(
    input,
    Boolean(apiKey && publicKey && from),
    'Telnyx (TELNYX_API_KEY, TELNYX_PUBLIC_KEY, TELNYX_FROM)',
  );
  // The sandbox cannot sign with Telnyx's key: in sandbox mode it gets a pair of its own.
  const keys = mode === 'sandbox' ? sandboxKeyPair() : { publicKey: publicKey!, privateKeyPem: undefined };
  return {
    mode,
    apiKey: apiKey ?? `KEY${randomBytes(16).toString('hex').toUpperCase()}`,
    publicKey: keys.publicKey,
    privateKeyPem: keys.privateKeyPem,
    from: from ?? '+15550000142',
    messagingProfileId: str(input.env.TELNYX_MESSAGING_PROFILE_ID),
  };
}

/** An ed25519 pair as Telnyx hands out its public key: the raw 32 bytes, base64. */
export function sandboxKeyPair(): { publicKey: string; privateKeyPem: string } {
  const pair = generateKeyPairSync('ed25519');
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  return {
    publicKey: spki.subarray(spki.length - 32).toString('base64'),
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
