// A cookie-holding client of the web inbox API, as a browser would be.
import { ADMIN_KEY, api } from '../support/api.js';
import { io as connect, type Socket } from 'socket.io-client';

export interface Agent {
  id: string;
  email: string;
  password: string;
}

export async function createAgent(
  gw: { url: string },
  role: 'ADMIN' | 'AGENT' = 'AGENT',
  name?: string,
): Promise<Agent> {
  const email = `${(name ?? 'agent').toLowerCase().replace(/\W/g, '')}.${Math.random().toString(36).slice(2, 8)}@team.example`;
  const r = await api(gw, ADMIN_KEY).post('/api/v1/users', { email, role, ...(name ? { name } : {}) });
  if (r.status !== 201) throw new Error(`create user failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.user.id, email, password: r.body.password };
}

export interface SessionClient {
  cookie: string;
  csrf: string;
  user: { id: string; name: string; role: string };
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any }>;
}

export async function rawLogin(
  gw: { url: string },
  email: string,
  password: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${gw.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: gw.url, ...headers },
    body: JSON.stringify({ email, password }),
  });
  return { status: res.status, body: (await res.json()) as any, setCookie: res.headers.get('set-cookie') };
}

export async function login(gw: { url: string }, who: Agent): Promise<SessionClient> {
  const r = await rawLogin(gw, who.email, who.password);
  if (r.status !== 200 || !r.setCookie) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
  const cookie = r.setCookie.split(';')[0]!;
  return {
    cookie,
    csrf: r.body.csrfToken,
    user: r.body.user,
    call: async (method, path, body, headers = {}) => {
      const res = await fetch(`${gw.url}${path}`, {
        method,
        headers: {
          cookie,
          origin: gw.url,
          'x-csrf-token': r.body.csrfToken,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
  };
}

/** An event a live client received. */
export interface Received {
  event: string;
  payload: any;
}

/** A browser-like socket client signed in with a session cookie; it records every event it receives. */
export async function liveClient(
  gw: { url: string },
  session: SessionClient,
): Promise<{ socket: Socket; received: Received[] }> {
  const received: Received[] = [];
  const socket = connect(gw.url, {
    transports: ['websocket'],
    extraHeaders: { cookie: session.cookie },
    reconnection: false,
    forceNew: true,
  });
  socket.onAny((event: string, payload: unknown) => received.push({ event, payload }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, received };
}

/** Emits `event` and resolves with the server's acknowledgement. */
export const ack = <T = any>(socket: Socket, event: string, payload?: unknown): Promise<T> =>
  new Promise((resolve) =>
    payload === undefined
      ? socket.emit(event, (r: T) => resolve(r))
      : socket.emit(event, payload, (r: T) => resolve(r)),
  );
