import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const log = createLogger('silent');

async function rows(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => db.drop());

  it('are laid out as Prisma Migrate expects', () => {
    expect(fs.readFileSync(path.join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8')).toMatch(
      /provider = "postgresql"/,
    );
    for (const m of readMigrations()) expect(m.name).toMatch(/^\d{14}_[a-z0-9_]+$/);
  });

  it('apply once and are recorded in _prisma_migrations with sha256 checksums', async () => {
    const first = await migrate(db.url, log);
    const files = readMigrations();
    expect(first.applied).toEqual(files.map((f) => f.name));
    const recorded = await rows(
      db.url,
      'SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(recorded).toHaveLength(files.length);
    for (const [i, f] of files.entries()) {
      const sha = createHash('sha256')
        .update(fs.readFileSync(path.join(MIGRATIONS_DIR, f.name, 'migration.sql')))
        .digest('hex');
      expect(recorded[i]).toMatchObject({
        migration_name: f.name,
        checksum: sha,
        applied_steps_count: 1,
        rolled_back_at: null,
      });
      expect(recorded[i]!.finished_at).toBeInstanceOf(Date);
    }
    const second = await migrate(db.url, log);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toHaveLength(files.length);
  });

  it('a failing migration is rolled back whole and stops the start with its name', async () => {
    const dir = fs.mkdtempSync(path.join(process.cwd(), 'test', '.tmp-migrations-'));
    try {
      fs.mkdirSync(path.join(dir, '20990101000000_broken'));
      fs.writeFileSync(
        path.join(dir, '20990101000000_broken', 'migration.sql'),
        'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n',
      );
      const other = await createTestDatabase({ migrate: false });
      try {
        await expect(migrate(other.url, log, dir)).rejects.toThrow(/20990101000000_broken failed/);
        const t = await rows(other.url, "SELECT to_regclass('public.half_done') AS t");
        expect(t[0]!.t).toBeNull();
      } finally {
        await other.drop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two processes starting at once apply each migration exactly once', async () => {
    const fresh = await createTestDatabase({ migrate: false });
    try {
      const run = () =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts'], {
            env: { PATH: process.env.PATH, DATABASE_URL: fresh.url, LOG_LEVEL: 'silent' },
          });
          let out = '';
          p.stdout.on('data', (d) => (out += d));
          p.stderr.on('data', (d) => (out += d));
          p.on('exit', (code) => resolve({ code, out }));
        });
      const [a, b] = await Promise.all([run(), run()]);
      expect([a.code, b.code]).toEqual([0, 0]);
      const n = readMigrations().length;
      // exactly one of them applied everything; the other found it done
      expect([a.out, b.out].sort()).toEqual(
        [`0 migration(s) applied, ${n} already applied\n`, `${n} migration(s) applied, 0 already applied\n`].sort(),
      );
      const recorded = await rows(
        fresh.url,
        'SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY migration_name',
      );
      expect(recorded).toHaveLength(n);
      expect(recorded.every((r) => r.n === 1)).toBe(true);
    } finally {
      await fresh.drop();
    }
  });

  it('keeps the audit log append-only', async () => {
    await rows(db.url, "INSERT INTO audit_events (actor_type, action) VALUES ('system', 'test.append')");
    await expect(rows(db.url, "UPDATE audit_events SET action = 'tampered'")).rejects.toThrow(/append-only/);
    await expect(rows(db.url, 'DELETE FROM audit_events')).rejects.toThrow(/append-only/);
    await expect(rows(db.url, 'TRUNCATE audit_events')).rejects.toThrow(/append-only/);
    expect(await rows(db.url, 'SELECT action FROM audit_events')).toEqual([{ action: 'test.append' }]);
  });
});
