// One JSON error shape for every failure the API reports:
//   { "error": "<code>", "message": "<human text>", "details"?: [{ field, reason }], "requestId": "…" }
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ZodError } from 'zod';
import { databaseCodeOf } from '../db/errors.js';

export interface FieldError {
  field: string;
  reason: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: FieldError[] | Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, details?: FieldError[]) =>
  new HttpError(400, 'invalid_request', message, details);
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);
export const unauthorized = (message = 'authentication required') => new HttpError(401, 'unauthorized', message);
export const forbidden = (message = 'not allowed') => new HttpError(403, 'forbidden', message);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new HttpError(409, 'conflict', message, details);

/** Turns a zod validation failure into field-level errors ("debts.0.amount": "must be …"). */
export function fromZod(err: ZodError, prefix = ''): HttpError {
  const details = err.issues.map((i) => ({
    field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(body)',
    reason: i.message,
  }));
  return badRequest(`invalid input: ${details.map((d) => `${d.field} ${d.reason}`).join('; ')}`, details);
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

/**
 * A database refusal the request caused (a value PostgreSQL cannot store or
 * parse, a duplicate, a reference to nothing) as the 4xx it is, or null.
 * Input validation should have caught it first; this is the net under it, so
 * a gap in a schema is a 4xx naming the problem, not a 500.
 */
export function clientFaultOf(err: unknown): HttpError | null {
  if (err instanceof URIError)
    return new HttpError(400, 'invalid_request', `malformed percent-encoding: ${err.message}`);
  const code = databaseCodeOf(err);
  if (!code) return null;
  if (code === '23505' || code === 'P2002')
    return new HttpError(409, 'conflict', 'a record with this value already exists (a unique field is taken)');
  if (code === '23503' || code === 'P2003')
    return new HttpError(
      409,
      'conflict',
      'the change refers to a record that does not exist, or one that other records still refer to',
    );
  if (code === 'P2025' || code === 'P2001') return new HttpError(404, 'not_found', 'the record does not exist');
  if (code === '23502' || code === '23514' || code === 'P2011' || code === 'P2004')
    return new HttpError(
      400,
      'invalid_request',
      'the input breaks a rule of the stored data (a required value is missing or a check failed)',
    );
  // Class 22, data exceptions: invalid text (NUL 22021, bad escapes 22P05), bad syntax for a type (22P02), out of range (22003), too long (22001), bad dates (22007/22008).
  if (
    code.startsWith('22') ||
    ['P2000', 'P2005', 'P2006', 'P2007', 'P2009', 'P2012', 'P2019', 'P2020', 'P2023', 'P2033'].includes(code)
  ) {
    return new HttpError(400, 'invalid_request', `the input has a value the database cannot store (${code})`);
  }
  return null;
}

export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const requestId = String(req.id ?? '');
  let e: HttpError;
  const bp = err as BodyParserError;
  if (err instanceof HttpError) e = err;
  else if (bp?.type === 'entity.parse.failed')
    e = new HttpError(400, 'invalid_json', `request body is not valid JSON: ${bp.message}`);
  else if (bp?.type === 'entity.too.large')
    e = new HttpError(413, 'payload_too_large', `request body exceeds the limit of ${bp.limit} bytes`);
  else if (bp?.type === 'encoding.unsupported' || bp?.type === 'charset.unsupported')
    e = new HttpError(415, 'unsupported_encoding', bp.message);
  else if (bp?.type === 'request.aborted')
    e = new HttpError(400, 'request_aborted', 'request was aborted by the client');
  else if (typeof bp?.status === 'number' && bp.status >= 400 && bp.status < 500)
    e = new HttpError(bp.status, 'bad_request', bp.message);
  else if ((e = clientFaultOf(err) as HttpError)) {
    // Validation let it through: worth knowing, but the client's fault, not an outage.
    req.log?.warn({ err }, `client fault reached the database: ${e.message}`);
  } else {
    req.log?.error({ err }, 'unhandled error');
    e = new HttpError(500, 'internal', 'internal error; quote the requestId when reporting it');
  }
  if (e.status >= 500 && err instanceof HttpError) req.log?.error({ err }, e.message);
  if (res.headersSent) return;
  res
    .status(e.status)
    .json({ error: e.code, message: e.message, ...(e.details ? { details: e.details } : {}), requestId });
};
