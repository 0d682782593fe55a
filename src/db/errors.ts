// What a database error means, whichever way it reached us: Prisma's model
// calls report a unique violation as P2002, raw statements (one-statement hot
// paths) as P2010 carrying the driver's UniqueConstraintViolation / 23505, and
// statements on a plain pg connection (sqlTransaction) as node-pg's error with
// SQLSTATE 23505.
import pg from 'pg';
import { Prisma } from '../generated/prisma/client.js';

export function isUniqueViolation(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) return err.code === '23505';
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (err.code === 'P2002') return true;
  const cause = (err.meta as { driverAdapterError?: { cause?: { kind?: string; originalCode?: string } } } | undefined)?.driverAdapterError?.cause;
  return err.code === 'P2010' && (cause?.kind === 'UniqueConstraintViolation' || cause?.originalCode === '23505');
}
