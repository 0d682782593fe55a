// Text searched for "as typed". Prisma's `contains` / `startsWith` build a
// LIKE/ILIKE pattern from the value without escaping it, so a search for "%"
// or "_" matched every row. PostgreSQL's LIKE escapes with a backslash by
// default: escape it, then the two wildcards.
export const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
