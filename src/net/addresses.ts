// Which network addresses a server-side request may reach. Outgoing webhooks
// and inbound media fetches take URLs that someone else chose; without this
// check they reach the gateway's own loopback, the private network it runs in
// and the cloud metadata service (169.254.169.254, fd00:ec2::254), with the
// gateway's credentials. The classification is ipaddr.js's (IANA special
// ranges); only global unicast counts as public, so every special range —
// loopback, private, link-local, CGNAT, IPv6 unique-local, IPv4-mapped, NAT64,
// 6to4, Teredo, documentation, reserved — is internal until listed.
import ipaddr from 'ipaddr.js';

/** The address without IPv6 brackets or zone, as URL.hostname and DNS answers give it. */
const bare = (address: string) => address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');

export const isIpLiteral = (host: string) => ipaddr.isValid(bare(host));

/** The special range an address is in ("loopback", "private", …), or null when it is public unicast. Unparseable → "invalid". */
export function internalRangeOf(address: string): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(bare(address));
  } catch {
    return 'invalid';
  }
  const range = ip.range();
  if (range === 'unicast') return null;
  // A mapped address names an IPv4 host; say which kind, the way an operator thinks of it.
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    const v4 = (ip as ipaddr.IPv6).toIPv4Address().range();
    return v4 === 'unicast' ? 'ipv4Mapped' : `ipv4Mapped ${v4}`;
  }
  return range;
}

/**
 * Internal targets an operator allows on purpose (a webhook receiver inside
 * the same network): IP addresses, CIDR ranges and host names, comma-separated.
 * A host name entry allows that name whatever it resolves to; an address or
 * range entry allows the addresses in it whichever name led there.
 */
export class TargetAllowList {
  private readonly ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  private readonly hosts = new Set<string>();

  constructor(entries: readonly string[] = []) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      const problem = TargetAllowList.problemOf(entry);
      if (problem) throw new Error(problem);
      if (entry.includes('/')) this.ranges.push(ipaddr.parseCIDR(bare(entry)));
      else if (ipaddr.isValid(bare(entry))) {
        const ip = ipaddr.parse(bare(entry));
        this.ranges.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
      } else this.hosts.add(entry);
    }
  }

  /** Parses the comma-separated setting. */
  static parse(value: string | undefined): TargetAllowList {
    return new TargetAllowList((value ?? '').split(','));
  }

  /** Why an entry of the setting is not usable, or null. */
  static problemOf(entry: string): string | null {
    if (entry.includes('/'))
      return ipaddr.isValidCIDR(bare(entry)) ? null : `"${entry}" is not a CIDR range like 10.0.0.0/8`;
    if (ipaddr.isValid(bare(entry))) return null;
    return /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(entry)
      ? null
      : `"${entry}" is neither an IP address, a CIDR range nor a host name`;
  }

  get empty(): boolean {
    return this.ranges.length === 0 && this.hosts.size === 0;
  }

  allowsHost(hostname: string): boolean {
    return this.hosts.has(bare(hostname).toLowerCase().replace(/\.$/, ''));
  }

  allowsAddress(address: string): boolean {
    let ip: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      ip = ipaddr.parse(bare(address));
    } catch {
      return false;
    }
    const candidates = [ip];
    // ::ffff:10.0.0.5 is 10.0.0.5 for a listed IPv4 range.
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress())
      candidates.push((ip as ipaddr.IPv6).toIPv4Address());
    return candidates.some((c) => this.ranges.some(([net, bits]) => net.kind() === c.kind() && c.match(net, bits)));
  }
}

/** Why `address` (reached as `hostname`) may not be connected to, or null when it may. */
export function addressRefusal(address: string, hostname: string, allow: TargetAllowList): string | null {
  const range = internalRangeOf(address);
  if (range === null) return null;
  if (allow.allowsHost(hostname) || allow.allowsAddress(address)) return null;
  const via = bare(hostname) === bare(address) ? '' : ` (${hostname} resolves to it)`;
  return `${bare(address)} is an internal address (${range})${via}`;
}
