// schema.prisma and prisma/migrations must describe the same database: every
// table, column, type, nullability, default, unique, index and foreign key.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { catalogFromSchemaFile, diffCatalogs, introspectCatalog, type Catalog } from '../../src/db/catalog.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const SCHEMA = path.resolve('prisma/schema.prisma');

describe('schema drift', () => {
  let db: TestDatabase;
  let migrated: Catalog;
  beforeAll(async () => {
    db = await createTestDatabase(); // applies prisma/migrations
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    migrated = await introspectCatalog(c);
    await c.end();
  });
  afterAll(async () => db.drop());

  it('schema.prisma and the migrations agree', async () => {
    const expected = await catalogFromSchemaFile(SCHEMA);
    expect(Object.keys(expected.tables).length).toBeGreaterThan(10);
    expect(diffCatalogs(expected, migrated)).toEqual([]);
  });

  // The check itself must be able to fail: edit a copy of the schema and make
  // sure each kind of disagreement is reported.
  it.each([
    [
      'a new column',
      (s: string) => s.replace('model Creditor {\n', 'model Creditor {\n  vatNumber String?\n'),
      /column creditors\.vatNumber: missing in database/,
    ],
    [
      'a nullability change',
      (s: string) => s.replace('  name        String\n  externalRef', '  name        String?\n  externalRef'),
      /column creditors\.name: nullable in database|NOT NULL in database, nullable in schema/,
    ],
    [
      'a type change',
      (s: string) =>
        s.replace(
          'balance                 Decimal              @db.Decimal(19, 4)',
          'balance                 Decimal              @db.Decimal(12, 2)',
        ),
      /debts\.balance: type is numeric\(19,4\) in database, numeric\(12,2\) in schema/,
    ],
    [
      'a default change',
      (s: string) =>
        s.replace(
          'locale       String               @default("en")',
          'locale       String               @default("es")',
        ),
      /debtors\.locale: default is 'en'::text in database, 'es'::text in schema/,
    ],
    [
      'a new unique',
      (s: string) => s.replace('  @@index([fullName])', '  @@index([fullName])\n  @@unique([fullName, locale])'),
      /unique index debtors_full_name_locale_key/,
    ],
    [
      'a dropped index',
      (s: string) => s.replace('  @@index([fullName])\n', ''),
      /index debtors_full_name_idx\(full_name\) in database but not in schema/,
    ],
    [
      'a foreign key action change',
      (s: string) =>
        s.replace(
          'debtor Debtor @relation(fields: [debtorId], references: [id], onDelete: Cascade)\n\n  @@map("contact_preferences")',
          'debtor Debtor @relation(fields: [debtorId], references: [id], onDelete: Restrict)\n\n  @@map("contact_preferences")',
        ),
      /contact_preferences_debtor_id_fkey.*on delete RESTRICT/,
    ],
    [
      'an enum value',
      (s: string) => s.replace('enum Channel {\n  SMS', 'enum Channel {\n  WHATSAPP\n  SMS'),
      /enum Channel/,
    ],
  ])('reports %s', async (_what, edit, message) => {
    const original = fs.readFileSync(SCHEMA, 'utf8');
    const edited = edit(original);
    expect(edited).not.toEqual(original);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-'));
    fs.writeFileSync(path.join(dir, 'schema.prisma'), edited);
    const expected = await catalogFromSchemaFile(path.join(dir, 'schema.prisma'));
    fs.rmSync(dir, { recursive: true });
    expect(diffCatalogs(expected, migrated).join('\n')).toMatch(message);
  });
});
