import { tsImport } from 'tsx/esm/api';

export default async function globalTeardown() {
  const { stopTestServer } = await tsImport('./pg-server.ts', import.meta.url);
  await stopTestServer();
}
