// A long job keeps its Agenda lock by touching it: while the process lives the
// lock never expires; once it dies, another process takes the job over
// `lockLifetime` after the last touch instead of after a fixed half hour.
export async function withHeartbeat<T>(
  job: { touch(): Promise<void> },
  lockLifetimeMs: number,
  run: () => Promise<T>,
): Promise<T> {
  const timer = setInterval(
    () => {
      // A failed touch is retried at the next beat; if the lock runs out meanwhile, the job is repeated, which every job here tolerates.
      job.touch().catch(() => undefined);
    },
    Math.max(250, Math.floor(lockLifetimeMs / 4)),
  );
  timer.unref();
  try {
    return await run();
  } finally {
    clearInterval(timer);
  }
}
