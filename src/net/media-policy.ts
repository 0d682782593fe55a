// Which hosts inbound media (MMS pictures, call recordings) may be fetched
// from, and which of them get the provider's credentials. A media URL arrives
// inside a webhook; whoever can make the provider (or the sandbox) put a URL
// there must not make the gateway fetch an internal host, nor receive the
// account's auth token. So: only the provider's declared media hosts, over
// https, at public addresses; credentials only to the hosts the provider
// declares for them; the same rules for every redirect. In sandbox mode the
// sandbox's own origin (on loopback) counts as the provider's, and
// INBOUND_MEDIA_ORIGINS lists further origins an operator trusts (a media
// proxy), which are fetched with credentials at whatever address they have.
import { addressRefusal, TargetAllowList } from './addresses.js';
import { systemResolve, type FetchPolicy, type Resolve } from './guarded-fetch.js';

/** One host a provider serves media from (declared under channels/<provider>/). */
export interface MediaHostRule {
  host: string | RegExp;
  /** Only URLs whose path starts with this (a shared storage host, one bucket of it). */
  pathPrefix?: string;
  /** Whether the provider's credentials go to this host. */
  credentials: boolean;
}

export interface MediaSource {
  provider: string;
  hosts: readonly MediaHostRule[];
  /** Origins (scheme://host:port) trusted as the provider's own: the sandbox's, INBOUND_MEDIA_ORIGINS. */
  trustedOrigins: () => readonly string[];
  /** The Authorization header value for credentialed hosts. */
  authorization: () => string;
  resolve?: Resolve;
}

const NOTHING_ALLOWED = new TargetAllowList();

const ruleFor = (source: MediaSource, url: URL) =>
  source.hosts.find(
    (r) =>
      (typeof r.host === 'string' ? r.host === url.hostname : r.host.test(url.hostname)) &&
      (!r.pathPrefix || url.pathname.startsWith(r.pathPrefix)),
  );

export function mediaPolicy(source: MediaSource): FetchPolicy {
  const trusted = (url: URL) => source.trustedOrigins().includes(url.origin);
  const trustedHost = (hostname: string) => source.trustedOrigins().some((o) => new URL(o).hostname === hostname);
  return {
    refuseUrl(url) {
      if (trusted(url)) return null;
      if (!ruleFor(source, url)) return `${url.host} is not one of ${source.provider}'s media hosts`;
      return url.protocol === 'https:' ? null : `${source.provider} media is fetched over https only`;
    },
    // refuseUrl already held the URL to a trusted origin or a declared host; a
    // declared (public) host must also resolve to a public address.
    refuseAddress: (address, hostname) =>
      trustedHost(hostname) ? null : addressRefusal(address, hostname, NOTHING_ALLOWED),
    headersFor: (url): Record<string, string> =>
      trusted(url) || ruleFor(source, url)?.credentials ? { authorization: source.authorization() } : {},
    resolve: (hostname) => (source.resolve ?? systemResolve)(hostname),
  };
}

/** Parses INBOUND_MEDIA_ORIGINS: comma-separated http(s) origins. */
export function parseOrigins(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => new URL(s).origin);
}
