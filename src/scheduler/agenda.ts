// Agenda 6 runs every background job (dispatch, retries, campaign waves). Its
// jobs live in the same PostgreSQL by default; with MONGODB_URL set they live
// in MongoDB instead, for teams that already operate one.
import pg from 'pg';
import { Agenda } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import { MongoBackend } from '@agendajs/mongo-backend';
import type { Logger } from '../logger.js';
import { endPool } from '../db/client.js';

export type Scheduler = Agenda;

export interface SchedulerOptions {
  databaseUrl: string;
  mongodbUrl?: string;
  name: string;
  log: Logger;
  processEvery?: string | number;
}

export function schedulerBackend(
  opts: Pick<SchedulerOptions, 'databaseUrl' | 'mongodbUrl' | 'name'>,
): 'mongodb' | 'postgres' {
  return opts.mongodbUrl ? 'mongodb' : 'postgres';
}

/** Pools we created for a Postgres backend (a pool passed in is not closed by Agenda). */
const ownedPools = new WeakMap<object, pg.Pool>();

/** Schedulers whose stop has begun (their late errors are expected). */
const stoppingSchedulers = new WeakSet<Agenda>();

export function createScheduler(opts: SchedulerOptions): Agenda {
  let backend: MongoBackend | PostgresBackend;
  let ownedPool: pg.Pool | null = null;
  if (opts.mongodbUrl) {
    backend = new MongoBackend({ address: opts.mongodbUrl, collection: 'agenda_jobs' });
  } else {
    // Our own pool, for its 'error' listener: the backend's pools have none, and
    // an idle connection dropped by the server would otherwise crash the process.
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
    pool.on('error', (err) =>
      opts.log.warn({ err: err.message }, 'scheduler database connection lost; the next query reconnects'),
    );
    const pgBackend = new PostgresBackend({ pool, tableName: 'agenda_jobs' });
    ownedPool = pool;
    // The LISTEN connection emits 'error' when the server restarts or shuts
    // down; unhandled, that would crash the process. Agenda falls back to
    // polling (processEvery), so log it and carry on.
    const channel = pgBackend.notificationChannel as unknown as
      | { on?(ev: 'error', fn: (e: Error) => void): void }
      | undefined;
    channel?.on?.('error', (err) => opts.log.warn({ err: err.message }, 'scheduler notification channel error'));
    backend = pgBackend;
  }
  const agenda: Agenda = new Agenda({
    backend,
    name: opts.name,
    processEvery: opts.processEvery ?? '2 seconds',
    defaultConcurrency: 5,
    maxConcurrency: 50,
  });
  if (ownedPool) ownedPools.set(agenda, ownedPool);
  agenda.on('error', (err: Error) => {
    // Agenda's queue-filling loop can still be inside a poll when stop() ends
    // its pool; that error is the shutdown itself, not a fault to report.
    if (stoppingSchedulers.has(agenda)) opts.log.debug({ err }, 'scheduler error while stopping');
    else opts.log.error({ err }, 'scheduler error');
  });
  agenda.on('fail', (err: Error, job: { attrs: { name: string; _id?: unknown } }) =>
    opts.log.warn({ job: job.attrs.name, err: err.message }, 'job failed'),
  );
  return agenda;
}

/** Waits up to `timeoutMs` for running jobs, then stops (unfinished ones are unlocked for another worker). */
export async function stopScheduler(agenda: Agenda, timeoutMs: number, log: Logger): Promise<void> {
  stoppingSchedulers.add(agenda);
  try {
    await agenda.drain(timeoutMs);
  } catch (err) {
    log.warn({ err }, 'scheduler drain did not finish; unlocking remaining jobs');
  }
  await agenda.stop(true);
  const pool = ownedPools.get(agenda);
  if (pool) {
    const r = await endPool(pool).catch((err: Error) => err.message);
    if (r !== 'ended') log.warn({ result: r }, 'scheduler pool did not close cleanly');
  }
}
