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

/**
 * The SQLSTATE when the database refused the data itself (class 22, data
 * exception: a NUL in text 22021, an untranslatable character 22P05, a value
 * too long 22001 …; 54000 a value too large to index): the same data fails
 * the same way every time. null for any other error.
 */
export function dataRejection(err: unknown): string | null {
  const permanent = (code: string | undefined) => (code && (/^22/.test(code) || code === '54000') ? code : null);
  if (err instanceof pg.DatabaseError) return permanent(err.code);
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return null;
  if (err.code === 'P2000') return '22001';
  const cause = (err.meta as { driverAdapterError?: { cause?: { originalCode?: string } } } | undefined)?.driverAdapterError?.cause;
  return permanent(cause?.originalCode);
}
