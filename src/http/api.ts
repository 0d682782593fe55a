// Declarative REST routes: each route states its method, path, who may call
// it and the zod schemas of its input. The same declarations validate
// requests (400 with field-level errors) and produce the OpenAPI 3 document
// served at GET /api/openapi.json, so the two cannot drift apart.
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { z, type ZodType } from 'zod';
import type { AppContext } from '../context.js';
import { authenticate, requireRole } from '../auth/principal.js';
import type { Role } from '../generated/prisma/enums.js';
import { fromZod } from './errors.js';

export interface RouteSpec<B extends ZodType | undefined = undefined, Q extends ZodType | undefined = undefined> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string; // express style: /api/v1/debtors/:id
  summary: string;
  tag: string;
  /** Roles allowed; omit for any authenticated principal. `public` skips authentication. */
  roles?: Role[];
  public?: boolean;
  body?: B;
  query?: Q;
  /** Response codes and descriptions for the document. */
  responses: Record<number, string>;
  headers?: Record<string, string>; // request headers documented (e.g. Idempotency-Key)
  handler: (
    req: Request & {
      valid: { body: B extends ZodType ? z.infer<B> : undefined; query: Q extends ZodType ? z.infer<Q> : undefined };
    },
    res: Response,
    ctx: AppContext,
  ) => Promise<void>;
}

const registry: RouteSpec<ZodType | undefined, ZodType | undefined>[] = [];

export function defineRoutes(...specs: RouteSpec<any, any>[]): RouteSpec<any, any>[] {
  return specs;
}

export function mountRoutes(app: Express, ctx: AppContext, specs: RouteSpec<any, any>[]): void {
  for (const spec of specs) {
    if (!registry.some((r) => r.method === spec.method && r.path === spec.path)) registry.push(spec);
    const chain: RequestHandler[] = [];
    if (!spec.public) {
      chain.push(authenticate(ctx));
      if (spec.roles) chain.push(requireRole(...spec.roles));
    }
    chain.push((req: Request, res: Response, next: NextFunction) => {
      const valid: { body?: unknown; query?: unknown } = {};
      if (spec.body) {
        const r = spec.body.safeParse(req.body ?? {});
        if (!r.success) return next(fromZod(r.error));
        valid.body = r.data;
      }
      if (spec.query) {
        const r = spec.query.safeParse(req.query);
        if (!r.success) return next(fromZod(r.error, 'query'));
        valid.query = r.data;
      }
      (req as Request & { valid: unknown }).valid = valid;
      spec.handler(req as never, res, ctx).catch(next);
    });
    app[spec.method](spec.path, ...chain);
  }
}

function jsonSchema(schema: ZodType): unknown {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return { type: 'object' };
  }
}

export function openApiDocument(ctx: AppContext): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of registry) {
    const p = r.path.replace(/:(\w+)/g, '{$1}');
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (r.query) {
      const qs = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(qs.properties ?? {}))
        params.push({ name, in: 'query', required: (qs.required ?? []).includes(name), schema } as never);
    }
    for (const [name, description] of Object.entries(r.headers ?? {}))
      params.push({ name, in: 'header', required: false, description, schema: { type: 'string' } } as never);
    (paths[p] ??= {})[r.method] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.public ? { security: [] } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(r.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } }
        : {}),
      responses: Object.fromEntries(
        Object.entries(r.responses).map(([code, description]) => [
          code,
          {
            description,
            content: {
              'application/json': {
                schema: Number(code) >= 400 ? { $ref: '#/components/schemas/Error' } : { type: 'object' },
              },
            },
          },
        ]),
      ),
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Dunning Gateway API',
      version: '1.0.0',
      description: 'Debtors, debts, outreach and conversations of the collections gateway.',
    },
    servers: [{ url: ctx.publicBaseUrl }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API key (Authorization: Bearer dgw_…)' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string' },
            message: { type: 'string' },
            details: {
              type: 'array',
              items: { type: 'object', properties: { field: { type: 'string' }, reason: { type: 'string' } } },
            },
            requestId: { type: 'string' },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
