// Jest loads global setup outside its ESM/TypeScript pipeline, so load the
// TypeScript implementation through tsx.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { startTestServer } = await tsImport('./pg-server.ts', import.meta.url);
  await startTestServer();
}
