// Prisma Client over node-postgres through Prisma's driver adapter: no native
// query engine, so it runs on machines that cannot download Prisma's binaries.
//
// Beside it, a small plain pg pool reserved for webhook intake (the raw
// event's INSERT that a provider's 2xx waits for). Under a burst, processing,
// dispatch and the API can hold every connection of Prisma's pool; the
// intake INSERT then queues behind them and the provider sees the wait. Its
// own few connections keep that one statement's latency independent of the
// rest of the load. It lives and dies with the client ($disconnect ends it).
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;

/** Connections for webhook intake INSERTs; each is one short statement, so a few serve hundreds per second. */
const INTAKE_POOL_SIZE = 4;

const intakePools = new WeakMap<Db, pg.Pool>();

export function createPrisma(databaseUrl: string, opts: { poolSize?: number; intakePoolSize?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: opts.poolSize ?? 20 });
  const client = new PrismaClient({ adapter });
  const intakeSize = opts.intakePoolSize ?? INTAKE_POOL_SIZE;
  if (intakeSize > 0) {
    // Connections open on first use; idle ones close, and never hold the process open.
    const pool = new pg.Pool({ connectionString: databaseUrl, max: intakeSize, idleTimeoutMillis: 30_000, allowExitOnIdle: true });
    // An idle connection dropped by the server (restart, failover) must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    intakePools.set(client, pool);
    const disconnect = client.$disconnect.bind(client);
    client.$disconnect = async () => {
      await pool.end().catch(() => undefined);
      await disconnect();
    };
  }
  return client;
}

/** The webhook-intake pool of a client made by createPrisma (undefined for a client made otherwise). */
export function intakePool(db: Db): pg.Pool | undefined {
  return intakePools.get(db);
}
