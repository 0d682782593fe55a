// The gateway as its own process (`node --import tsx src/main.ts`), for tests
// that kill it (SIGTERM, SIGKILL) and start it again: lifecycle, resumable
// imports. The child gets only the environment it is given plus PATH, so a
// developer's .env or shell variables cannot change what the test sees.
import { spawn, type ChildProcess } from 'node:child_process';
import { eventually } from './gateway.js';

export interface ChildGateway {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Everything the process wrote to stdout and stderr so far (pino JSON lines). */
  output(): string;
  /** Resolves once GET /readyz answers 200. */
  ready(timeoutMs?: number): Promise<void>;
}

/** Starts the gateway on 127.0.0.1:`port` with `env` (PORT and HOST are set here). */
export function startChildGateway(port: number, env: Record<string, string>): ChildGateway {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '5000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => out,
    ready: (timeoutMs = 60_000) => readyAt(port, timeoutMs),
  };
}

/** Waits until the gateway on `port` reports ready (bounded polling). */
export async function readyAt(port: number, timeoutMs = 60_000): Promise<void> {
  await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, timeoutMs, '/readyz 200');
}
