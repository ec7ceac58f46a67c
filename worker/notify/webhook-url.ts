// Which webhook URLs a user may register. Production: https, a public host,
// port 443 (or one listed in WEBHOOK_ALLOWED_PORTS), no credentials in the URL,
// and no IP literal in private, loopback, link-local, CGNAT, metadata or other
// special ranges (the WHATWG parser has already turned "2130706433" or
// "0x7f.1" into dotted form). Development also takes http://127.0.0.1 and
// http://localhost on any port, so a local receiver can be tried.
// Hostnames are not resolved here: Workers' outbound fetch cannot reach private
// networks, which is what makes DNS-rebinding tricks moot on the platform.

export type UrlCheck = { ok: true; url: string } | { ok: false; reason: string };

function ipv4(host: string): number[] | null {
  const m = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function blockedV4([a, b, c]: number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 || // private
    a === 127 || // loopback
    (a === 100 && b >= 64 && b <= 127) || // CGNAT
    (a === 169 && b === 254) || // link-local, cloud metadata 169.254.169.254
    (a === 172 && b >= 16 && b <= 31) || // private
    (a === 192 && b === 168) || // private
    (a === 192 && b === 0 && (c === 0 || c === 2)) || // IETF, TEST-NET-1
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) || // TEST-NET-2
    (a === 203 && b === 0 && c === 113) || // TEST-NET-3
    a >= 224 // multicast, reserved, broadcast
  );
}

function blockedV6(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "::" || h === "::1") return true;
  // IPv4-mapped / -translated forms carry a v4 address: judge that one.
  const mapped = h.match(/^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/);
  if (mapped) {
    const v4 = ipv4(mapped[1]);
    return !v4 || blockedV4(v4);
  }
  const hex = h.match(/^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/);
  if (hex) {
    const n = (Number.parseInt(hex[1], 16) << 16) | Number.parseInt(hex[2], 16);
    return blockedV4([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  }
  if (h.startsWith("::ffff:") || h.startsWith("64:ff9b:")) return true;
  const first = Number.parseInt(h.split(":")[0] || "0", 16);
  return (
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7 (AWS metadata fd00:ec2::254)
    (first & 0xffc0) === 0xfe80 || // link-local
    (first & 0xff00) === 0xff00 || // multicast
    (first === 0x2001 && h.startsWith("2001:db8")) // documentation
  );
}

const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".lan"];

export function checkWebhookUrl(input: string, opts: { development: boolean; extraPorts: Set<string> }): UrlCheck {
  if (input.length > 2048) return { ok: false, reason: "The URL is longer than 2048 characters." };
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    return { ok: false, reason: "Not a valid URL." };
  }
  if (u.username || u.password) return { ok: false, reason: "Credentials in the URL are not allowed." };
  const host = u.hostname.toLowerCase();
  const loopbackDev = opts.development && (host === "127.0.0.1" || host === "localhost");
  if (loopbackDev && (u.protocol === "http:" || u.protocol === "https:")) return { ok: true, url: u.toString() };
  if (u.protocol !== "https:") return { ok: false, reason: "Webhook URLs must use https." };
  if (u.port && !opts.extraPorts.has(u.port)) return { ok: false, reason: `Port ${u.port} is not allowed (443 only).` };
  const v4 = ipv4(host);
  if (v4 ? blockedV4(v4) : host.startsWith("[") && blockedV6(host)) {
    return { ok: false, reason: "The host is a private, loopback, link-local or otherwise non-public address." };
  }
  if (!v4 && !host.startsWith("[")) {
    if (host === "localhost" || !host.includes(".") || LOCAL_SUFFIXES.some((s) => host.endsWith(s))) {
      return { ok: false, reason: "The host is not a public domain name." };
    }
  }
  u.hash = "";
  return { ok: true, url: u.toString() };
}
