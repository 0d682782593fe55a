// Lob as a plugin: posted letters through the official Lob SDK, its signed
// tracking webhooks, its sandbox. Registered in channels/registry.ts.
import type { Router } from 'express';
import { listenOnLoopback } from '../kit/http-server.js';
import { definePlugin, type SandboxRuntime } from '../types.js';
import { lobLetters } from './adapter.js';
import { lobEnv, lobSettings, type LobSettings } from './config.js';
import { LobSandbox } from './sandbox/index.js';
import { lobWebhooks, SIGNATURE_HEADER, WEBHOOK_PATH } from './webhooks.js';

interface LobSandboxStartOptions {
  apiKey: string;
  webhookSecret: string;
  port?: number;
}

async function startLobSandbox(o: Partial<LobSandboxStartOptions>, runtime: SandboxRuntime) {
  const sandbox = new LobSandbox({
    apiKey: o.apiKey ?? 'test_sandbox_key',
    webhookSecret: o.webhookSecret ?? 'sandbox-webhook-secret',
    dispatcher: runtime.callbacks,
    callbackDelayMs: runtime.callbackDelayMs,
    webhookUrl: `${runtime.gatewayBaseUrl}${WEBHOOK_PATH}`,
  });
  const server = await listenOnLoopback(sandbox.app, o.port ?? 0);
  return Object.assign(sandbox, { baseUrl: server.baseUrl, close: () => server.close() });
}

type RunningLobSandbox = Awaited<ReturnType<typeof startLobSandbox>>;

function lobControlRoutes(router: Router, sandbox: RunningLobSandbox): void {
  router.get('/letters', (_req, res) => {
    res.json(sandbox.listLetters());
  });
  router.get('/letters/:id', (req, res) => {
    const letter = sandbox.getLetter(req.params.id);
    if (!letter) res.status(404).json({ error: `no letter ${req.params.id}` });
    else res.json(letter);
  });
}

export const lob = definePlugin<'lob', LobSettings, RunningLobSandbox, LobSandboxStartOptions, typeof lobEnv>({
  id: 'lob',
  name: 'Lob',
  channels: ['LETTER'],
  env: lobEnv,
  configured: (env) => Boolean(env.LOB_API_KEY),
  settings: lobSettings,
  adapters: ({ settings, sandbox }) => ({
    LETTER: lobLetters({
      apiKey: settings.apiKey,
      basePath: settings.mode === 'sandbox' && sandbox ? `${sandbox.baseUrl}/v1` : settings.apiBaseUrl,
    }),
  }),
  webhooks: lobWebhooks,
  redactHeaders: [SIGNATURE_HEADER],
  view: (s, v) => ({
    id: 'lob',
    name: 'Lob',
    channels: ['LETTER'],
    mode: s.mode,
    sender: {
      returnAddress: String(v.config.RETURN_ADDRESS ?? '')
        .split('|')
        .filter(Boolean)
        .join(', '),
    },
    secrets: v.isSet(['LOB_API_KEY', 'LOB_WEBHOOK_SECRET']),
    webhooks: [
      {
        purpose: 'Letter tracking events',
        method: 'POST',
        url: v.at(WEBHOOK_PATH),
        note: 'Webhooks → letter.*; verified by Lob-Signature with LOB_WEBHOOK_SECRET',
      },
    ],
  }),
  sandbox: {
    options: (s) => ({ apiKey: s.apiKey, webhookSecret: s.webhookSecret }),
    start: startLobSandbox,
    control: lobControlRoutes,
    describe: (sb) => sb.baseUrl,
  },
});
