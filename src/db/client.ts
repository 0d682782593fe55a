// Prisma Client over node-postgres through Prisma's driver adapter: no native
// query engine, so it runs on machines that cannot download Prisma's binaries.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;

export function createPrisma(databaseUrl: string, opts: { poolSize?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: opts.poolSize ?? 20 });
  return new PrismaClient({ adapter });
}
