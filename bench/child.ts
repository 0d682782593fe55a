// Load generators run in processes of their own (a provider's webhooks and an
// API caller live elsewhere): the parent starts one with a JSON argument and
// reads its figures from the last line it prints.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs `bench/<script>` with `arg` and returns what it printed as JSON on its last line. */
export function runChild<T>(script: string, arg: string, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(here, script), arg],
      { cwd: path.join(here, '..'), timeout: 600_000, maxBuffer: 1 << 20 },
      (err, out, errOut) => {
        if (err) reject(new Error(`${what} failed: ${err.message}\n${errOut}`));
        else resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
      },
    );
  });
}

/** In a load generator: when run as the main script, runs `main(argv[2])` and prints its result for runChild. */
export function childMain<T>(moduleUrl: string, main: (arg: string) => Promise<T>): void {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  main(process.argv[2]!).then(
    (figures) => {
      console.log(JSON.stringify(figures));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
