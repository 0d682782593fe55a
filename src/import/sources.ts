// Turns a byte stream into raw records, one at a time, without reading the
// whole file: CSV through csv-parse, JSON either as NDJSON (one object per
// line) or as one top-level array streamed by @streamparser/json-node. Pulling
// records through an async iterator gives backpressure for free: while the
// importer is writing a batch, nothing more is read from the source.
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseCsv } from 'csv-parse';
import JSONParser from '@streamparser/json-node/jsonparser.js';

export type ImportFormat = 'csv' | 'json';

/** A record to validate, or a line that could not even be read as one. */
export type RawRecord = { line: number; raw: Record<string, unknown> } | { line: number; error: string };

export async function* readRecords(
  source: AsyncIterable<Buffer | string>,
  format: ImportFormat,
): AsyncGenerator<RawRecord> {
  if (format === 'csv') yield* readCsv(source);
  else yield* readJson(source);
}

async function* readCsv(source: AsyncIterable<Buffer | string>): AsyncGenerator<RawRecord> {
  const parser = parseCsv({
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    info: true,
  });
  const input = Readable.from(source);
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);
  for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    yield { line: item.info.lines, raw: item.record };
  }
}

/** NDJSON when the first non-blank character is not "[", else one JSON array. */
async function* readJson(source: AsyncIterable<Buffer | string>): AsyncGenerator<RawRecord> {
  const it = source[Symbol.asyncIterator]();
  const head: (Buffer | string)[] = [];
  let first: string | undefined;
  while (first === undefined) {
    const n = await it.next();
    if (n.done) break;
    head.push(n.value);
    const m = /\S/.exec(
      typeof n.value === 'string'
        ? n.value
        : n.value.toString('utf8', 0, Math.min(n.value.length, 4096)).replace(/^\uFEFF/, ''),
    );
    if (m) first = m[0];
  }
  if (first === undefined) return;
  const rest = (async function* () {
    yield* head;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
  })();
  if (first === '[') yield* readJsonArray(rest);
  else yield* readNdjson(rest);
}

async function* readNdjson(source: AsyncIterable<Buffer | string>): AsyncGenerator<RawRecord> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  const parseLine = (text: string): RawRecord | null => {
    line += 1;
    const t = text.replace(/^\uFEFF/, '').trim();
    if (!t) return null;
    try {
      const v: unknown = JSON.parse(t);
      if (!v || typeof v !== 'object' || Array.isArray(v)) return { line, error: 'line is not a JSON object' };
      return { line, raw: v as Record<string, unknown> };
    } catch (e) {
      return { line, error: `invalid JSON: ${(e as Error).message}` };
    }
  };
  for await (const chunk of source) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const rec = parseLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (rec) yield rec;
    }
  }
  pending += decoder.end();
  const rec = parseLine(pending);
  if (rec) yield rec;
}

/** Elements of a top-level array; "line" is the element's position (1-based). */
async function* readJsonArray(source: AsyncIterable<Buffer | string>): AsyncGenerator<RawRecord> {
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  const input = Readable.from(source);
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);
  let n = 0;
  for await (const item of parser as AsyncIterable<{ value: unknown }>) {
    n += 1;
    const v = item.value;
    if (!v || typeof v !== 'object' || Array.isArray(v)) yield { line: n, error: 'array element is not a JSON object' };
    else yield { line: n, raw: v as Record<string, unknown> };
  }
}
