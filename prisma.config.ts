// Prisma CLI configuration. The service itself never runs the Prisma CLI: it
// applies prisma/migrations with its own migrator (src/db/migrate.ts). This file
// exists so `prisma generate` (run on install) and, on machines that have
// Prisma's schema engine, `prisma migrate status` find the schema and database.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' },
});
