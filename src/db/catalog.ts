// A database-neutral description of the relational schema ("catalog"), built
// two independent ways: from prisma/schema.prisma (via Prisma's own schema
// parser, compiled to wasm) and by introspecting a live PostgreSQL. The drift
// test compares the two; scripts/migration-new.ts renders the difference as a
// Prisma-Migrate-style SQL migration.
import fs from 'node:fs';
import type pg from 'pg';

export interface Column {
  name: string;
  /** As PostgreSQL's format_type() prints it, unquoted: "text", "numeric(19,4)", "Channel[]". */
  type: string;
  nullable: boolean;
  /** As pg_get_expr() prints the default, or null. */
  default: string | null;
}
export interface Index {
  name: string;
  unique: boolean;
  columns: string[];
}
export interface ForeignKey {
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: RefAction;
  onUpdate: RefAction;
}
export type RefAction = 'CASCADE' | 'RESTRICT' | 'SET NULL' | 'SET DEFAULT' | 'NO ACTION';
export interface Table {
  name: string;
  columns: Column[];
  primaryKey: { name: string; columns: string[] } | null;
  indexes: Index[];
  foreignKeys: ForeignKey[];
}
export interface Catalog {
  enums: Record<string, string[]>;
  tables: Record<string, Table>;
}

// ───────────────────────────── from schema.prisma ─────────────────────────────

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUnique: boolean;
  isUpdatedAt: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  name?: string;
  dbName?: string;
  fields: { name: string }[];
}
interface Dmmf {
  datamodel: {
    enums: { name: string; dbName?: string | null; values: { name: string; dbName?: string | null }[] }[];
    models: DmmfModel[];
    indexes: DmmfIndex[];
  };
}

async function readDmmf(schemaPath: string): Promise<Dmmf> {
  const wasm = (await import('@prisma/prisma-schema-wasm')).default as { get_dmmf(params: string): string };
  const schema = fs.readFileSync(schemaPath, 'utf8');
  return JSON.parse(wasm.get_dmmf(JSON.stringify({ prismaSchema: [['schema.prisma', schema]] }))) as Dmmf;
}

function scalarType(f: DmmfField, enumDbName: (n: string) => string): string {
  const native = f.nativeType;
  if (f.kind === 'enum') return enumDbName(f.type);
  if (native) {
    const [name, args] = native;
    switch (name) {
      case 'Uuid':
        return 'uuid';
      case 'Char':
        return `character(${args[0] ?? 1})`;
      case 'VarChar':
        return args.length ? `character varying(${args[0]})` : 'character varying';
      case 'Text':
        return 'text';
      case 'Decimal':
        return `numeric(${args.join(',')})`;
      case 'Timestamptz':
        return `timestamp(${args[0] ?? 6}) with time zone`;
      case 'Timestamp':
        return `timestamp(${args[0] ?? 6}) without time zone`;
      case 'Date':
        return 'date';
      case 'SmallInt':
        return 'smallint';
      case 'Integer':
        return 'integer';
      case 'BigInt':
        return 'bigint';
      case 'JsonB':
        return 'jsonb';
      case 'Json':
        return 'json';
      default:
        throw new Error(`catalog: native type @db.${name} on ${f.name} is not mapped yet`);
    }
  }
  switch (f.type) {
    case 'String':
      return 'text';
    case 'Int':
      return 'integer';
    case 'BigInt':
      return 'bigint';
    case 'Float':
      return 'double precision';
    case 'Decimal':
      return 'numeric(65,30)';
    case 'Boolean':
      return 'boolean';
    case 'DateTime':
      return 'timestamp(3) without time zone';
    case 'Json':
      return 'jsonb';
    case 'Bytes':
      return 'bytea';
    default:
      throw new Error(`catalog: type ${f.type} on ${f.name} is not mapped yet`);
  }
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The default as pg_get_expr() will print it after Prisma's DDL ran; null when the client generates it. */
function defaultExpr(f: DmmfField, type: string, table: string, column: string): string | null {
  if (!f.hasDefaultValue) return null;
  const d = f.default as unknown;
  if (d && typeof d === 'object' && !Array.isArray(d) && 'name' in (d as object)) {
    const fn = (d as { name: string }).name;
    if (fn === 'now') return 'CURRENT_TIMESTAMP';
    if (fn === 'autoincrement') return `nextval('${table}_${column}_seq'::regclass)`;
    if (fn === 'uuid' || fn === 'cuid' || fn === 'nanoid' || fn === 'ulid') return null; // generated by Prisma Client
    if (fn === 'dbgenerated') return ((d as { args?: string[] }).args ?? [])[0] ?? null;
    throw new Error(`catalog: default function ${fn}() on ${f.name} is not mapped yet`);
  }
  const quotedType = type.replace(/^([A-Z]\w*)(\[\])?$/, '"$1"$2');
  if (f.isList) {
    const items = (d as unknown[]).map((v) => (typeof v === 'string' ? sqlString(v) : String(v)));
    return items.length ? `ARRAY[${items.join(', ')}]::${quotedType}` : `ARRAY[]::${quotedType}`;
  }
  if (typeof d === 'boolean' || typeof d === 'number') return String(d);
  if (typeof d === 'string') {
    if (f.kind === 'enum') return `${sqlString(d)}::${quotedType}`;
    if (type === 'jsonb') return `${sqlString(d)}::jsonb`;
    if (type === 'text') return `${sqlString(d)}::text`;
    if (type.startsWith('numeric')) return d;
    return `${sqlString(d)}::${type}`;
  }
  throw new Error(`catalog: default ${JSON.stringify(d)} on ${f.name} is not mapped yet`);
}

function prismaRefAction(a: string | undefined, required: boolean, kind: 'delete' | 'update'): RefAction {
  const v = a ?? (kind === 'update' ? 'Cascade' : required ? 'Restrict' : 'SetNull');
  switch (v) {
    case 'Cascade':
      return 'CASCADE';
    case 'Restrict':
      return 'RESTRICT';
    case 'SetNull':
      return 'SET NULL';
    case 'SetDefault':
      return 'SET DEFAULT';
    case 'NoAction':
      return 'NO ACTION';
    default:
      throw new Error(`catalog: referential action ${v}`);
  }
}

function catalogFromDmmf(dmmf: Dmmf): Catalog {
  const dm = dmmf.datamodel;
  const enumDb = new Map(dm.enums.map((e) => [e.name, e.dbName ?? e.name]));
  const enumDbName = (n: string) => enumDb.get(n) ?? n;
  const models = new Map(dm.models.map((m) => [m.name, m]));
  const tableName = (m: DmmfModel) => m.dbName ?? m.name;
  const colName = (m: DmmfModel, field: string) => {
    const f = m.fields.find((x) => x.name === field);
    if (!f) throw new Error(`catalog: ${m.name}.${field} not found`);
    return f.dbName ?? f.name;
  };
  const catalog: Catalog = { enums: {}, tables: {} };
  for (const e of dm.enums) catalog.enums[enumDbName(e.name)] = e.values.map((v) => v.dbName ?? v.name);

  for (const m of dm.models) {
    const table = tableName(m);
    const columns: Column[] = [];
    for (const f of m.fields) {
      if (f.kind === 'object') continue;
      const name = f.dbName ?? f.name;
      let type = scalarType(f, enumDbName);
      if (f.isList) type += '[]';
      // Prisma creates scalar-list columns without NOT NULL, required or not.
      columns.push({ name, type, nullable: f.isList || !f.isRequired, default: defaultExpr(f, type, table, name) });
    }
    const indexes: Index[] = [];
    let primaryKey: Table['primaryKey'] = null;
    for (const ix of dm.indexes.filter((i) => i.model === m.name)) {
      const cols = ix.fields.map((x) => colName(m, x.name));
      if (ix.type === 'id') {
        primaryKey = { name: ix.dbName ?? `${table}_pkey`, columns: cols };
      } else if (ix.type === 'unique') {
        indexes.push({ name: ix.dbName ?? `${table}_${cols.join('_')}_key`, unique: true, columns: cols });
      } else if (ix.type === 'normal') {
        indexes.push({ name: ix.dbName ?? `${table}_${cols.join('_')}_idx`, unique: false, columns: cols });
      } else {
        throw new Error(`catalog: ${ix.type} index on ${m.name} is not mapped yet`);
      }
    }
    const foreignKeys: ForeignKey[] = [];
    for (const f of m.fields) {
      if (f.kind !== 'object' || !f.relationFromFields?.length) continue;
      const target = models.get(f.type)!;
      const cols = f.relationFromFields.map((x) => colName(m, x));
      foreignKeys.push({
        name: `${table}_${cols.join('_')}_fkey`,
        columns: cols,
        refTable: tableName(target),
        refColumns: (f.relationToFields ?? []).map((x) => colName(target, x)),
        onDelete: prismaRefAction(f.relationOnDelete, f.isRequired, 'delete'),
        onUpdate: prismaRefAction(f.relationOnUpdate, f.isRequired, 'update'),
      });
    }
    catalog.tables[table] = { name: table, columns, primaryKey, indexes, foreignKeys };
  }
  return catalog;
}

export async function catalogFromSchemaFile(schemaPath: string): Promise<Catalog> {
  return catalogFromDmmf(await readDmmf(schemaPath));
}

// ───────────────────────────── from a live database ─────────────────────────────

const ACTIONS: Record<string, RefAction> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

/** Introspects one schema (default: public), leaving out Prisma's and Agenda's bookkeeping tables. */
export async function introspectCatalog(
  client: pg.Client | pg.PoolClient,
  schema = 'public',
  ignoreTables: string[] = ['_prisma_migrations', 'agenda_jobs', 'agenda_logs'],
): Promise<Catalog> {
  const catalog: Catalog = { enums: {}, tables: {} };
  const enums = await client.query<{ name: string; value: string }>(
    `SELECT t.typname AS name, e.enumlabel AS value
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1 ORDER BY t.typname, e.enumsortorder`,
    [schema],
  );
  for (const r of enums.rows) (catalog.enums[r.name] ??= []).push(r.value);

  const cols = await client.query<{ table: string; name: string; type: string; notnull: boolean; def: string | null }>(
    `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS def
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname, a.attnum`,
    [schema],
  );
  for (const r of cols.rows) {
    if (ignoreTables.includes(r.table)) continue;
    const t = (catalog.tables[r.table] ??= {
      name: r.table,
      columns: [],
      primaryKey: null,
      indexes: [],
      foreignKeys: [],
    });
    t.columns.push({ name: r.name, type: r.type.replace(/"/g, ''), nullable: !r.notnull, default: r.def });
  }
  const idx = await client.query<{ table: string; name: string; unique: boolean; primary: boolean; columns: string[] }>(
    `SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique, x.indisprimary AS primary,
            ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 ORDER BY t.relname, i.relname`,
    [schema],
  );
  for (const r of idx.rows) {
    const t = catalog.tables[r.table];
    if (!t) continue;
    if (r.primary) t.primaryKey = { name: r.name, columns: r.columns };
    else t.indexes.push({ name: r.name, unique: r.unique, columns: r.columns });
  }
  const fks = await client.query<{
    table: string;
    name: string;
    columns: string[];
    ref_table: string;
    ref_columns: string[];
    del: string;
    upd: string;
  }>(
    `SELECT t.relname AS table, c.conname AS name,
            ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
            rt.relname AS ref_table,
            ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS ref_columns,
            c.confdeltype AS del, c.confupdtype AS upd
       FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class rt ON rt.oid = c.confrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE c.contype = 'f' AND n.nspname = $1 ORDER BY t.relname, c.conname`,
    [schema],
  );
  for (const r of fks.rows) {
    const t = catalog.tables[r.table];
    if (!t) continue;
    t.foreignKeys.push({
      name: r.name,
      columns: r.columns,
      refTable: r.ref_table,
      refColumns: r.ref_columns,
      onDelete: ACTIONS[r.del]!,
      onUpdate: ACTIONS[r.upd]!,
    });
  }
  return catalog;
}

// ───────────────────────────── comparison ─────────────────────────────

/** Every difference, as one readable line each; empty when the two agree. */
export function diffCatalogs(expected: Catalog, actual: Catalog): string[] {
  const out: string[] = [];
  for (const [name, values] of Object.entries(expected.enums)) {
    const got = actual.enums[name];
    if (!got) out.push(`enum ${name}: missing in database`);
    else if (got.join(',') !== values.join(','))
      out.push(`enum ${name}: schema has [${values}] but database has [${got}]`);
  }
  for (const name of Object.keys(actual.enums))
    if (!expected.enums[name]) out.push(`enum ${name}: in database but not in schema`);

  for (const [name, et] of Object.entries(expected.tables)) {
    const at = actual.tables[name];
    if (!at) {
      out.push(`table ${name}: missing in database`);
      continue;
    }
    for (const ec of et.columns) {
      const ac = at.columns.find((c) => c.name === ec.name);
      if (!ac) {
        out.push(`column ${name}.${ec.name}: missing in database`);
        continue;
      }
      if (ac.type !== ec.type)
        out.push(`column ${name}.${ec.name}: type is ${ac.type} in database, ${ec.type} in schema`);
      if (ac.nullable !== ec.nullable)
        out.push(
          `column ${name}.${ec.name}: ${ac.nullable ? 'nullable' : 'NOT NULL'} in database, ${ec.nullable ? 'nullable' : 'NOT NULL'} in schema`,
        );
      if ((ac.default ?? null) !== (ec.default ?? null))
        out.push(
          `column ${name}.${ec.name}: default is ${ac.default ?? 'none'} in database, ${ec.default ?? 'none'} in schema`,
        );
    }
    for (const ac of at.columns)
      if (!et.columns.some((c) => c.name === ac.name))
        out.push(`column ${name}.${ac.name}: in database but not in schema`);
    const pk = (p: Table['primaryKey']) => (p ? `${p.name}(${p.columns})` : 'none');
    if (pk(et.primaryKey) !== pk(at.primaryKey))
      out.push(`table ${name}: primary key is ${pk(at.primaryKey)} in database, ${pk(et.primaryKey)} in schema`);
    const ix = (i: Index) => `${i.unique ? 'unique ' : ''}index ${i.name}(${i.columns})`;
    const eIx = new Set(et.indexes.map(ix));
    const aIx = new Set(at.indexes.map(ix));
    for (const i of eIx) if (!aIx.has(i)) out.push(`table ${name}: ${i} missing in database`);
    for (const i of aIx) if (!eIx.has(i)) out.push(`table ${name}: ${i} in database but not in schema`);
    const fk = (f: ForeignKey) =>
      `foreign key ${f.name}(${f.columns}) -> ${f.refTable}(${f.refColumns}) on delete ${f.onDelete} on update ${f.onUpdate}`;
    const eFk = new Set(et.foreignKeys.map(fk));
    const aFk = new Set(at.foreignKeys.map(fk));
    for (const f of eFk) if (!aFk.has(f)) out.push(`table ${name}: ${f} missing in database`);
    for (const f of aFk) if (!eFk.has(f)) out.push(`table ${name}: ${f} in database but not in schema`);
  }
  for (const name of Object.keys(actual.tables))
    if (!expected.tables[name]) out.push(`table ${name}: in database but not in schema`);
  return out;
}

// ───────────────────────────── SQL rendering ─────────────────────────────

const q = (id: string) => `"${id.replace(/"/g, '""')}"`;

function ddlType(c: Column, table: string): string {
  if (c.default === `nextval('${table}_${c.name}_seq'::regclass)`) return c.type === 'bigint' ? 'BIGSERIAL' : 'SERIAL';
  const list = c.type.endsWith('[]');
  const base = list ? c.type.slice(0, -2) : c.type;
  let t: string;
  const m = /^(\w[\w ]*?)(?:\((.*)\))?( with time zone| without time zone)?$/.exec(base);
  const name = m?.[1] ?? base;
  const args = m?.[2];
  if (/^[A-Z]/.test(base)) t = q(base);
  else if (name === 'timestamp') t = `${m?.[3] === ' with time zone' ? 'TIMESTAMPTZ' : 'TIMESTAMP'}(${args})`;
  else if (name === 'character') t = `CHAR(${args})`;
  else if (name === 'character varying') t = args ? `VARCHAR(${args})` : 'VARCHAR';
  else if (name === 'numeric') t = `DECIMAL(${args})`;
  else if (name === 'double precision') t = 'DOUBLE PRECISION';
  else t = base.toUpperCase();
  return list ? `${t}[]` : t;
}

function ddlDefault(c: Column, table: string): string {
  if (!c.default || c.default.startsWith(`nextval('${table}_`)) return '';
  return ` DEFAULT ${c.default}`;
}

function renderColumn(c: Column, table: string): string {
  return `${q(c.name)} ${ddlType(c, table)}${c.nullable ? '' : ' NOT NULL'}${ddlDefault(c, table)}`;
}

/**
 * Renders the additive difference from `from` to `to` as SQL in Prisma
 * Migrate's style. Changes that would lose or rewrite data (drops, type
 * changes) are returned in `manual` for a person to write deliberately.
 */
export function renderMigration(from: Catalog, to: Catalog): { sql: string; manual: string[] } {
  const parts: string[] = [];
  const manual: string[] = [];
  for (const [name, values] of Object.entries(to.enums)) {
    const have = from.enums[name];
    if (!have) parts.push(`-- CreateEnum\nCREATE TYPE ${q(name)} AS ENUM (${values.map(sqlString).join(', ')});`);
    else {
      const added = values.filter((v) => !have.includes(v));
      for (const v of added) parts.push(`-- AlterEnum\nALTER TYPE ${q(name)} ADD VALUE ${sqlString(v)};`);
      if (have.some((v) => !values.includes(v))) manual.push(`enum ${name}: values removed`);
    }
  }
  const fks: string[] = [];
  const indexes: string[] = [];
  for (const [name, t] of Object.entries(to.tables)) {
    const have = from.tables[name];
    if (!have) {
      const lines = t.columns.map((c) => `    ${renderColumn(c, name)}`);
      if (t.primaryKey)
        lines.push(`    CONSTRAINT ${q(t.primaryKey.name)} PRIMARY KEY (${t.primaryKey.columns.map(q).join(', ')})`);
      parts.push(`-- CreateTable\nCREATE TABLE ${q(name)} (\n${lines.join(',\n')}\n);`);
    } else {
      for (const c of t.columns) {
        const hc = have.columns.find((x) => x.name === c.name);
        if (!hc) parts.push(`-- AlterTable\nALTER TABLE ${q(name)} ADD COLUMN ${renderColumn(c, name)};`);
        else if (hc.type !== c.type || hc.nullable !== c.nullable || hc.default !== c.default)
          manual.push(`column ${name}.${c.name} changed`);
      }
      for (const hc of have.columns)
        if (!t.columns.some((c) => c.name === hc.name)) manual.push(`column ${name}.${hc.name} dropped`);
    }
    for (const i of t.indexes) {
      if (have?.indexes.some((x) => x.name === i.name)) continue;
      indexes.push(
        `-- CreateIndex\nCREATE ${i.unique ? 'UNIQUE ' : ''}INDEX ${q(i.name)} ON ${q(name)}(${i.columns.map(q).join(', ')});`,
      );
    }
    for (const f of t.foreignKeys) {
      if (have?.foreignKeys.some((x) => x.name === f.name)) continue;
      fks.push(
        `-- AddForeignKey\nALTER TABLE ${q(name)} ADD CONSTRAINT ${q(f.name)} FOREIGN KEY (${f.columns.map(q).join(', ')}) REFERENCES ${q(f.refTable)}(${f.refColumns.map(q).join(', ')}) ON DELETE ${f.onDelete} ON UPDATE ${f.onUpdate};`,
      );
    }
  }
  for (const name of Object.keys(from.tables)) if (!to.tables[name]) manual.push(`table ${name} dropped`);
  return { sql: [...parts, ...indexes, ...fks].join('\n\n') + '\n', manual };
}
