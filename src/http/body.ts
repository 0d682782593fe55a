// Body parsing for JSON and form posts. The raw bytes are kept on req.rawBody
// because providers' webhook signatures are computed over them.
import express from 'express';
import type { RouteModule } from './app.js';
import { refuseBadText } from './text.js';

declare module 'http' {
  interface IncomingMessage {
    rawBody?: Buffer;
  }
}

const keepRaw = (req: import('http').IncomingMessage, _res: unknown, buf: Buffer) => {
  req.rawBody = buf;
};

export const jsonBody: RouteModule = (app, ctx) => {
  app.use(
    express.json({ limit: ctx.config.BODY_LIMIT, verify: keepRaw, type: ['application/json', 'application/*+json'] }),
  );
  app.use(express.urlencoded({ limit: ctx.config.BODY_LIMIT, extended: false, verify: keepRaw }));
  // Every API (and sandbox panel) input is checked for text PostgreSQL cannot store, once, here.
  app.use(['/api', '/sandbox'], refuseBadText);
};
