import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { ConfigError, envSchema, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('applies defaults when nothing is set', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.PROVIDERS).toBe('auto');
  });

  it.each([
    ['PORT', 'abc', /PORT must be a number/],
    ['PORT', '70000', /PORT must be between 0 and 65535/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL must be a postgres/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of/],
    ['TWILIO_FROM', '555-1234', /TWILIO_FROM must be an E\.164/],
    ['PUBLIC_BASE_URL', 'ftp://x', /PUBLIC_BASE_URL must be an http/],
    ['PROVIDER_RATE_LIMITS', 'FAX=10', /PROVIDER_RATE_LIMITS unknown channel "FAX"/],
    ['PROVIDER_RATE_LIMITS', 'SMS=0', /PROVIDER_RATE_LIMITS SMS must be a whole number/],
    ['VOICE_RECORD_CALLS', 'maybe', /VOICE_RECORD_CALLS must be one of 0, 1, true, false/],
  ])('rejects %s=%s naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('never echoes a secret value in the error', () => {
    try {
      loadConfig({ TWILIO_AUTH_TOKEN: 'short' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect((e as Error).message).toMatch(/TWILIO_AUTH_TOKEN/);
      expect((e as Error).message).not.toContain('short');
    }
  });

  it('lists every variable in .env.example', () => {
    const example = fs.readFileSync('.env.example', 'utf8');
    const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const missing = Object.keys(envSchema.shape).filter((k) => !listed.has(k));
    expect(missing).toEqual([]);
  });

  it('stops the process with one line naming the bad variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, PORT: 'not-a-port', DATA_DIR: '/nonexistent-never-used' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe('Invalid configuration: PORT must be a number (got "not-a-port")');
  });
});
