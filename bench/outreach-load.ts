// The API caller of the sends bench, in a process of its own: the system that
// asks for reminders (a creditor's back office) is not the gateway, so its
// HTTP client must not share the gateway's event loop — the same reason the
// inbound bench's load generator runs apart. Used as
//   node --import tsx bench/outreach-load.ts <request.json>
// which prints the OutreachLoadFigures as JSON on its last line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SeededPair } from './seed.js';
import { now, round, runPool } from './stats.js';
import { childMain, runChild } from './child.js';

export interface OutreachLoadRequest {
  baseUrl: string;
  apiKey: string;
  concurrency: number;
  pairs: SeededPair[];
}

export interface OutreachLoadFigures {
  accepted: number;
  rejected: Record<string, number>;
  /** The first answer that was not a send, to tell a refusal from a fault. */
  firstRejection: string | null;
  requestPhaseMs: number;
  /** When the first request went out (epoch ms): the parent times the run from here, not from the child's start-up. */
  startedAt: number;
  /** CPU milliseconds this process used from the first request to the last answer. */
  cpuMs: number;
}

async function fire({ baseUrl, apiKey, concurrency, pairs }: OutreachLoadRequest): Promise<OutreachLoadFigures> {
  const rejected: Record<string, number> = {};
  let accepted = 0;
  let firstRejection: string | null = null;
  const startedAt = Date.now();
  const t0 = now();
  const cpu0 = process.cpuUsage();
  await runPool(pairs.length, concurrency, async (i) => {
    const p = pairs[i]!;
    const res = await fetch(`${baseUrl}/api/v1/outreach`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ debtorId: p.debtorId, debtId: p.debtId, intent: 'friendly-reminder', channel: 'SMS' }),
    });
    const text = await res.text();
    if (res.status === 202 && (JSON.parse(text) as { outcome: string }).outcome === 'send') accepted++;
    else {
      const key = `${res.status}${res.status === 202 ? ':defer' : ''}`;
      rejected[key] = (rejected[key] ?? 0) + 1;
      firstRejection ??= `${res.status} ${text.slice(0, 300)}`;
    }
  });
  const cpu = process.cpuUsage(cpu0);
  return {
    accepted,
    rejected,
    firstRejection,
    requestPhaseMs: round(now() - t0),
    startedAt,
    cpuMs: round((cpu.user + cpu.system) / 1000),
  };
}

/** Runs the requests from a child process and returns its figures. */
export async function fireOutreachFromChild(req: OutreachLoadRequest): Promise<OutreachLoadFigures> {
  // The debtor list is too long for a command-line argument: it goes through a file.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-outreach-'));
  const file = path.join(dir, 'request.json');
  fs.writeFileSync(file, JSON.stringify(req));
  try {
    return await runChild<OutreachLoadFigures>('outreach-load.ts', file, 'outreach load');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

childMain(import.meta.url, (file) => fire(JSON.parse(fs.readFileSync(file, 'utf8')) as OutreachLoadRequest));
