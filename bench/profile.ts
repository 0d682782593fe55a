// Summarises a V8 CPU profile (`node --cpu-prof`) in words an issue note can
// carry: self time by package / product directory, and the hottest functions.
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/run.ts --only sends
//   npx tsx bench/profile.ts /tmp/prof/CPU.*.cpuprofile [--top 25] [--window REGEX]
// --window keeps the span from the first to the last sample whose stack has a
// frame matching REGEX (its script URL and function name), e.g.
// `--window src/outbound/service` for the sends run's end-to-end phase alone.
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The bucket a script belongs to: an npm package, a product directory, node internals, or V8's own states. */
export function bucketOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return 'node:internals';
  const m = /\/(src|bench|channels)\/(.*)$/.exec(url);
  if (m) {
    const parts = m[2]!.split('/');
    return parts.length > 1 ? `${m[1]}/${parts[0]}` : `${m[1]}/${parts[0]}`;
  }
  return path.basename(url);
}

/** The first and last sample index whose stack has a frame matching `marker` (the whole profile without one). */
export function sampleWindow(profile: CpuProfile, marker?: RegExp): [number, number] {
  if (!marker) return [0, profile.samples.length - 1];
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const matches = new Map<number, boolean>();
  const hit = (id: number): boolean => {
    let m = matches.get(id);
    if (m === undefined) {
      const f = byId.get(id)!.callFrame;
      const up = parent.get(id);
      m = marker.test(`${f.url} ${f.functionName}`) || (up !== undefined && hit(up));
      matches.set(id, m);
    }
    return m;
  };
  let first = -1;
  let last = -1;
  profile.samples.forEach((id, i) => {
    if (!hit(id)) return;
    if (first < 0) first = i;
    last = i;
  });
  if (first < 0) throw new Error(`no sample's stack matches ${marker}`);
  return [first, last];
}

export function summarize(profile: CpuProfile, top = 20, marker?: RegExp) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const [from, to] = sampleWindow(profile, marker);
  for (let i = from; i <= to; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const buckets = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const b = bucketOf(n.callFrame.url, n.callFrame.functionName);
    buckets.set(b, (buckets.get(b) ?? 0) + us);
    const fn =
      `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? `${bucketOf(n.callFrame.url, '')}:${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), pct: Math.round((1000 * us) / total) / 10 }));
  return { totalMs: Math.round(total / 1000), buckets: rank(buckets), functions: rank(functions) };
}

function main(): void {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 20;
  const windowAt = args.indexOf('--window');
  const marker = windowAt >= 0 ? new RegExp(args.splice(windowAt, 2)[1]!) : undefined;
  if (!args.length) throw new Error('usage: tsx bench/profile.ts FILE.cpuprofile [--top N] [--window REGEX]');
  for (const file of args) {
    const s = summarize(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, top, marker);
    console.log(`\n${file}: ${s.totalMs} ms sampled`);
    console.log('  self time by package / directory:');
    for (const b of s.buckets)
      console.log(`    ${String(b.pct).padStart(5)}%  ${String(b.ms).padStart(7)} ms  ${b.name}`);
    console.log('  hottest functions (self time):');
    for (const f of s.functions)
      console.log(`    ${String(f.pct).padStart(5)}%  ${String(f.ms).padStart(7)} ms  ${f.name}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) main();
