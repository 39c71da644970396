import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where the gateway may connect on an administrator's say-so. A provider or SSO base URL is typed
 * in by an admin; without a rule it could point the server at its own cloud metadata service,
 * at loopback services beside it, or into the private network (SSRF). These ranges are refused,
 * after DNS resolution and again at connect time (so a name that later resolves elsewhere is
 * still caught), unless the operator allows a named range for on-premise models.
 */
const REFUSED_NETWORKS: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'this network'],
  ['10.0.0.0', 8, 'ipv4', 'a private network'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'a private network'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'ipv4', 'a private network'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'the unspecified address'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['64:ff9b::', 96, 'ipv6', 'NAT64 (an IPv4 address in disguise)'],
  ['fc00::', 7, 'ipv6', 'a private network (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/** The error a refused address raises; dispatch and the admin API turn it into their answers. */
export class RefusedAddressError extends Error {
  readonly code = 'GATEHOUSE_REFUSED_ADDRESS';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly network: string,
  ) {
    super(
      `${host} resolves to ${address}, which is ${network}; an operator can allow it with GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS`,
    );
    this.name = 'RefusedAddressError';
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export class OutboundNetworks {
  readonly #refused: Array<{ list: BlockList; network: string }>;
  readonly #allowed = new BlockList();

  /** @param allowed CIDR ranges the operator allows despite the rules, e.g. `10.1.0.0/16`. */
  constructor(allowed: readonly string[] = []) {
    this.#refused = REFUSED_NETWORKS.map(([address, prefix, family, network]) => {
      const list = new BlockList();
      list.addSubnet(address, prefix, family);
      return { list, network };
    });
    for (const range of allowed) {
      const parsed = parseCidr(range);
      if (!parsed) throw new Error(`not a CIDR range: ${range}`);
      this.#allowed.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
  }

  /** Why the address may not be called, or undefined when it may. */
  refusalFor(address: string): string | undefined {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (this.#allowed.check(address, family)) return undefined;
    return this.#refused.find(({ list }) => list.check(address, family))?.network;
  }

  /** Resolves a host (or takes an IP literal) and throws RefusedAddressError if any address is refused. */
  async assertHostAllowed(host: string): Promise<void> {
    const bare = host.replace(/^\[|\]$/g, '');
    const addresses = isIP(bare)
      ? [bare]
      : await new Promise<string[]>((resolve, reject) =>
          dnsLookup(bare, { all: true }, (error, found) =>
            error ? reject(error) : resolve(found.map((entry) => entry.address)),
          ),
        );
    for (const address of addresses) {
      const network = this.refusalFor(address);
      if (network) throw new RefusedAddressError(bare, address, network);
    }
  }

  /**
   * Why an administrator may not point Gatehouse at this URL, as a sentence naming `field`, or
   * undefined when it may. A name that does not resolve yet is let through: the connect-time
   * check still applies when it does.
   */
  async refusalForUrl(field: string, url: string): Promise<string | undefined> {
    try {
      await this.assertHostAllowed(new URL(url).hostname);
      return undefined;
    } catch (error) {
      if (error instanceof RefusedAddressError) return `${field}: ${error.message}.`;
      return undefined;
    }
  }

  /**
   * A `lookup` for sockets (undici's connect options): resolves as usual, then refuses before the
   * connection is made. IP-literal hosts never reach a lookup; `assertHostAllowed` covers them.
   */
  readonly lookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, found) => {
      if (error) return callback(error, []);
      for (const entry of found) {
        const network = this.refusalFor(entry.address);
        if (network) return callback(new RefusedAddressError(hostname, entry.address, network), []);
      }
      if (options.all) return callback(null, found);
      const first = found[0];
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      return callback(null, first.address, first.family);
    });
  };
}

/** `10.0.0.0/8`, `fd00::/8` or a single address (a /32 or /128). */
export function parseCidr(
  range: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText] = range.trim().split('/');
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 6 ? 'ipv6' : 'ipv4';
  const maximum = version === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? maximum : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > maximum) return undefined;
  return { address, prefix, family };
}

/** A URL with a user name or password in it would store that secret in clear, and echo it. */
export function hasUserinfo(url: string): boolean {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  return parsed !== undefined && (parsed.username !== '' || parsed.password !== '');
}
