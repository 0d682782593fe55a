// The built-in jurisdiction packs: every file in ./jurisdictions/, one per jurisdiction.
//
// Adding a jurisdiction is adding a file there (CONTRIBUTING.md, "Add a jurisdiction"): this
// module finds it, so no list, union type or switch elsewhere names it. The folder is read
// once when the module loads (the router's decisions stay pure: they read only these values).
// Works alike from src/ (tsx, jest: .ts files) and from dist/ (tsc output: .js files).

import { readdirSync } from 'node:fs';
import type { JurisdictionPack } from './types.js';

const FOLDER = new URL('./jurisdictions/', import.meta.url);
const PACK_FILE = /^([a-z0-9-]+)\.(?:ts|js)$/;

function packNames(): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(FOLDER)) {
    if (file.endsWith('.d.ts')) continue;
    const match = PACK_FILE.exec(file);
    if (match) names.add(match[1] as string);
  }
  return [...names].sort();
}

function checkPack(file: string, value: unknown): JurisdictionPack {
  const pack = value as Partial<JurisdictionPack> | undefined;
  if (!pack || typeof pack.jurisdiction !== 'string' || !Array.isArray(pack.caps) || !Array.isArray(pack.hours)) {
    throw new Error(
      `src/router/jurisdictions/${file}: the default export must be definePack({ jurisdiction, name, caps, hours, ... })`,
    );
  }
  // The file name is the code in lower case ("ca-on.ts" holds CA-ON), so each code has one file.
  if (pack.jurisdiction.toLowerCase() !== file) {
    throw new Error(
      `src/router/jurisdictions/${file}: holds ${pack.jurisdiction}; name the file ${pack.jurisdiction.toLowerCase()}.ts`,
    );
  }
  return Object.freeze(pack as JurisdictionPack);
}

async function loadPacks(): Promise<readonly JurisdictionPack[]> {
  const packs: JurisdictionPack[] = [];
  for (const name of packNames()) {
    const module = (await import(`./jurisdictions/${name}.js`)) as { default?: unknown };
    packs.push(checkPack(name, module.default));
  }
  return Object.freeze(packs);
}

/** Every built-in pack, ordered by code (file name), so the order never depends on the file system. */
export const BUILT_IN_PACKS: readonly JurisdictionPack[] = await loadPacks();
