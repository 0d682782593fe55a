// The one list of feature modules: their HTTP routes and their background
// parts (job definitions, listeners). Add a feature here and nowhere else.
import type { AppContext } from './context.js';
import type { RouteModule } from './http/app.js';
import { jsonBody } from './http/body.js';

export interface ModuleHandle {
  stop(): Promise<void>;
}

export const routeModules: RouteModule[] = [jsonBody];

export async function startModules(_ctx: AppContext): Promise<ModuleHandle[]> {
  return [];
}
