// Prepared statements for the hot queries. An unnamed statement (node-postgres'
// and Prisma's default) is parsed and planned by PostgreSQL on every call; for
// the gateway's hand-written CTEs that planning costs as much as running them.
// A named statement is parsed once per connection, and after a few runs
// PostgreSQL reuses its plan. Every named statement stays on each connection
// for the connection's life, so only statements that keep coming back get a
// name, and only so many: a query whose text varies (an IN list, a batch
// insert) never fills the server's memory. Batch statements (array
// parameters) are never named.
import { createHash } from 'node:crypto';

export interface StatementNamingOptions {
  /** Runs of the same text before it is prepared. */
  after?: number;
  /** Most statements ever named (each connection may hold them all). */
  max?: number;
  /** Distinct texts counted at once; past it the counts start over. */
  track?: number;
}

export class StatementNames {
  private readonly after: number;
  private readonly max: number;
  private readonly track: number;
  private readonly counts = new Map<string, number>();
  private readonly names = new Map<string, string>();

  constructor(opts: StatementNamingOptions = {}) {
    this.after = opts.after ?? 20;
    this.max = opts.max ?? 200;
    this.track = opts.track ?? 5_000;
  }

  /** The name to prepare `sql` under, or undefined to run it unnamed. */
  nameFor(sql: string, args: readonly unknown[] = []): string | undefined {
    // A statement with an array parameter (a batch: unnest, = ANY) is planned on every call: its best plan depends
    // on the array's length, which a reused generic plan cannot know (campaign waves ran 12% slower prepared).
    if (args.some(Array.isArray)) return undefined;
    const known = this.names.get(sql);
    if (known !== undefined) return known;
    if (this.names.size >= this.max) return undefined;
    const n = (this.counts.get(sql) ?? 0) + 1;
    if (n < this.after) {
      if (this.counts.size >= this.track) this.counts.clear();
      this.counts.set(sql, n);
      return undefined;
    }
    this.counts.delete(sql);
    // The text's hash: the same statement gets the same name on every connection, and two texts never share one.
    const name = `gw_${createHash('sha256').update(sql).digest('hex').slice(0, 40)}`;
    this.names.set(sql, name);
    return name;
  }

  /** How many statements have a name (for tests and diagnostics). */
  get size(): number {
    return this.names.size;
  }
}
