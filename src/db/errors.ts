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
  const cause = (err.meta as { driverAdapterError?: { cause?: { kind?: string; originalCode?: string } } } | undefined)
    ?.driverAdapterError?.cause;
  return err.code === 'P2010' && (cause?.kind === 'UniqueConstraintViolation' || cause?.originalCode === '23505');
}

/**
 * The SQLSTATE (or Prisma error code, P…) of a database error, however it
 * reached us: node-pg's DatabaseError, Prisma's known errors, or the driver
 * adapter's error inside them. Null for anything else.
 */
export function databaseCodeOf(err: unknown): string | null {
  if (err instanceof pg.DatabaseError) return err.code ?? null;
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    const cause = (
      err.meta as { driverAdapterError?: { cause?: { originalCode?: string; code?: string } } } | undefined
    )?.driverAdapterError?.cause;
    return (
      cause?.originalCode ??
      (typeof cause?.code === 'string' && /^[0-9A-Z]{5}$/.test(cause.code) ? cause.code : null) ??
      err.code
    );
  }
  const e = err as { name?: string; cause?: { originalCode?: string }; message?: string } | null;
  if (e?.name === 'DriverAdapterError' && e.cause?.originalCode) return e.cause.originalCode;
  return null;
}

/**
 * The SQLSTATE when the database refused the data itself (class 22, data
 * exception: a NUL in text 22021, an untranslatable character 22P05, a value
 * too long 22001 …; 54000 a value too large to index): the same data fails
 * the same way every time. null for any other error.
 */
export function dataRejection(err: unknown): string | null {
  const code = databaseCodeOf(err);
  if (code === 'P2000') return '22001';
  return code && (/^22/.test(code) || code === '54000') ? code : null;
}
