import { describe, expect, it } from '@jest/globals';
describe('toolchain', () => {
  it('runs ESM TypeScript', async () => {
    const { DateTime } = await import('luxon');
    expect(DateTime.fromISO('2026-03-08T02:30', { zone: 'America/New_York' }).isValid).toBe(true);
  });
});
