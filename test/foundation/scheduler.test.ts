import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createScheduler, stopScheduler } from '../../src/scheduler/agenda.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { eventually } from '../support/gateway.js';

const log = createLogger('silent');

describe('scheduler on PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

  it('runs a job stored in the database, and a job scheduled for later only when due', async () => {
    const agenda = createScheduler({ databaseUrl: db.url, name: 'test', log, processEvery: 200 });
    const ran: { n: number; at: number }[] = [];
    agenda.define('probe', async (job: { attrs: { data: { n: number } } }) => {
      ran.push({ n: job.attrs.data.n, at: Date.now() });
    });
    await agenda.start();
    const dueAt = Date.now() + 1500;
    await agenda.schedule(new Date(dueAt), 'probe', { n: 2 });
    await agenda.now('probe', { n: 1 });
    await eventually(() => ran.length === 2, 15_000, 'both jobs');
    expect(ran.map((r) => r.n)).toEqual([1, 2]);
    expect(ran[1]!.at).toBeGreaterThanOrEqual(dueAt);
    await stopScheduler(agenda, 2000, log);
  });

  it('lets a running job finish when stopping within the bound', async () => {
    const agenda = createScheduler({ databaseUrl: db.url, name: 'test2', log, processEvery: 200 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    let finished = false;
    agenda.define('slow', async () => {
      started = true;
      await gate;
      finished = true;
    });
    await agenda.start();
    await agenda.now('slow', {});
    await eventually(() => started, 10_000, 'job start');
    const stopping = stopScheduler(agenda, 10_000, log);
    let stopped = false;
    void stopping.then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false); // still waiting for the job
    release();
    await stopping;
    expect(finished).toBe(true);
  });
});

const MONGODB_URL = process.env.MONGODB_URL;
const describeMongo = MONGODB_URL ? describe : describe.skip;
describeMongo(
  `scheduler on MongoDB${MONGODB_URL ? '' : ' — skipped: no MongoDB server here; set MONGODB_URL to run'}`,
  () => {
    it('runs a job stored in MongoDB', async () => {
      const agenda = createScheduler({
        databaseUrl: '',
        mongodbUrl: MONGODB_URL,
        name: 'mongo-test',
        log,
        processEvery: 200,
      });
      let ran = 0;
      agenda.define('probe-mongo', async () => {
        ran += 1;
      });
      await agenda.start();
      await agenda.now('probe-mongo', {});
      await eventually(() => ran === 1, 15_000, 'mongo job');
      await stopScheduler(agenda, 2000, log);
    });
  },
);
