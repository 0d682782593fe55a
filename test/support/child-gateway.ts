// The gateway as its own process (`node --import tsx src/main.ts`), for tests
// that kill it (SIGTERM, SIGKILL) and start it again: lifecycle, resumable
// imports. The child gets only the environment it is given plus PATH, so a
// developer's .env or shell variables cannot change what the test sees.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildGateway {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Everything the process wrote to stdout and stderr so far (pino JSON lines). */
  output(): string;
  /** Resolves once GET /readyz answers 200; rejects with the process's output if it exits first. */
  ready(timeoutMs?: number): Promise<void>;
  /** The gateway's base URL (with port 0, known once ready() resolved). */
  url(): string;
}

/** Starts the gateway on 127.0.0.1:`port` (0: any free port, no race with other tests) with `env` (PORT and HOST are set here). */
export function startChildGateway(port: number, env: Record<string, string>): ChildGateway {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '5000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let url: string | null = port === 0 ? null : `http://127.0.0.1:${port}`;
  const fail = (why: string) =>
    new Error(
      `${why}\n--- gateway output (exit ${child.exitCode ?? child.signalCode ?? 'none'}) ---\n${out.slice(-3000)}`,
    );
  return {
    child,
    exited,
    output: () => out,
    url: () => {
      if (!url) throw new Error('the gateway has not reported its address yet: await ready() first');
      return url;
    },
    // Fails at once with the process's output when it exits instead of becoming ready.
    ready: async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) throw fail('the gateway exited before it was ready');
        // Port 0: the kernel picked the port; the 'listening' log line names it.
        url ??= /"url":"(http:\/\/[^"]+)","msg":"listening"/.exec(out)?.[1] ?? null;
        if (url && (await fetch(`${url}/readyz`).catch(() => null))?.status === 200) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw fail(`timed out after ${timeoutMs} ms waiting for /readyz 200`);
    },
  };
}
