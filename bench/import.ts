// 6. Import: runs bench/import-child.ts in a child process against the bench
// database and reads its figures (rows/s, peak RSS, parse-only ceiling).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface ImportFigures {
  rows: number;
  rowsDone: number;
  rowsFailed: number;
  importMs: number;
  rowsPerSecond: number;
  peakRssMB: number;
  maxRssMB: number;
  ceilingRowsPerSecond: number;
  target: { rowsPerSecond: number; peakRssMB: number };
}

export async function benchImportRun(databaseUrl: string, scale: number): Promise<ImportFigures> {
  const rows = Math.max(1_000, Math.round(100_000 * scale));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(here, 'import-child.ts'), databaseUrl, String(rows)],
      { cwd: path.join(here, '..'), timeout: 300_000, maxBuffer: 1 << 20 },
      (err, out, errOut) => {
        if (err) reject(new Error(`import child failed: ${err.message}\n${errOut}`));
        else resolve(out);
      },
    );
  });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>;
  const mb = (b: number) => round(b / 1024 / 1024);
  return {
    rows,
    rowsDone: r.rowsDone!,
    rowsFailed: r.rowsFailed!,
    importMs: round(r.importMs!),
    rowsPerSecond: r.rowsPerSecond!,
    peakRssMB: mb(r.peakRssBytes!),
    maxRssMB: mb(r.maxRssBytes!),
    ceilingRowsPerSecond: r.ceilingRowsPerSecond!,
    target: { rowsPerSecond: 5_000, peakRssMB: 300 },
  };
}
