/**
 * Starts the local provider sandboxes on loopback ports — every registered
 * provider's (channels/<provider>/sandbox) — wired to deliver their webhooks
 * to the gateway, so the whole outreach loop runs on one machine with no
 * provider accounts.
 */
import { plugins, type PluginSandboxMap, type RegisteredPlugin } from '../../channels/registry.js';
import { CallbackDispatcher, type CallbackDispatcherOptions } from '../../channels/kit/callback-dispatcher.js';

export { CallbackDispatcher } from '../../channels/kit/callback-dispatcher.js';
export type {
  CallbackRecord,
  CallbackRequest,
  CallbackAttempt,
  SandboxProvider,
} from '../../channels/kit/callback-dispatcher.js';

type SandboxOptionsOf<P extends RegisteredPlugin> = Parameters<NonNullable<P['sandbox']>['start']>[0];
/** Each provider's sandbox options under its id; what is left out is generated. */
export type PluginSandboxOptions = { [P in RegisteredPlugin as P['id']]?: SandboxOptionsOf<P> };

export interface StartSandboxesOptions extends PluginSandboxOptions {
  gateway: {
    /** Where callbacks go, e.g. `http://127.0.0.1:3000`. */
    baseUrl: string;
    /** The gateway's own inbound mail listener, where a sandbox sends the debtor's email replies. */
    inboundSmtp?: { host: string; port: number; auth?: { user: string; pass: string } };
  };
  /** Pause between successive simulated events; default 20 ms. */
  callbackDelayMs?: number;
  /** Retry policy for webhooks the gateway fails to accept. */
  callbackRetry?: CallbackDispatcherOptions;
}

export type Sandboxes = PluginSandboxMap & {
  /** Every webhook the sandboxes sent, with each attempt and the gateway's answer. */
  callbacks: CallbackDispatcher;
  /** Waits for in-flight simulations and callbacks, then stops every server. */
  close(): Promise<void>;
};

function validateBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`gateway.baseUrl must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`gateway.baseUrl must be http(s), got ${value}`);
  return value.replace(/\/+$/, '');
}

export async function startSandboxes(options: StartSandboxesOptions): Promise<Sandboxes> {
  const base = validateBaseUrl(options.gateway.baseUrl);
  const dispatcher = new CallbackDispatcher(options.callbackRetry);
  const callbackDelayMs = options.callbackDelayMs ?? 20;

  const started: Record<string, { close(): Promise<void> }> = {};
  const runtime = {
    gatewayBaseUrl: base,
    callbacks: dispatcher,
    callbackDelayMs,
    ...(options.gateway.inboundSmtp ? { inboundSmtp: options.gateway.inboundSmtp } : {}),
  };
  try {
    for (const plugin of plugins) {
      if (!plugin.sandbox) continue;
      started[plugin.id] = await plugin.sandbox.start(
        (options as unknown as Record<string, object | undefined>)[plugin.id] ?? {},
        runtime,
      );
    }
  } catch (err) {
    await Promise.all(Object.values(started).map((s) => s.close()));
    throw err;
  }

  let closing: Promise<void> | null = null;
  return {
    ...(started as unknown as PluginSandboxMap),
    callbacks: dispatcher,
    close: () => {
      closing ??= (async () => {
        await dispatcher.close();
        await Promise.all(Object.values(started).map((s) => s.close()));
      })();
      return closing;
    },
  };
}
