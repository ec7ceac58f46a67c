// Test helpers: real HTTP through the Worker's fetch handler inside workerd.
import { exports } from "cloudflare:workers";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { noteSensitive } from "./log-capture";

export const ORIGIN = "http://127.0.0.1:8787";

export interface ApiResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function api<T = any>(
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  noteSensitive(opts.body);
  noteSensitive(opts.token);
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
  const res = await exports.default.fetch(new Request(`${ORIGIN}${path}`, { method, headers, body }));
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  noteSensitive(pickSecrets(parsed));
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export interface SignedIn {
  account: PrivateKeyAccount;
  accessToken: string;
  refreshToken: string;
  user: { id: string; handle: string | null; walletAddress: string };
}

export async function signIn(
  account: PrivateKeyAccount = privateKeyToAccount(generatePrivateKey()),
): Promise<SignedIn> {
  const challenge = await api("POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
  if (challenge.status !== 200) throw new Error(`challenge ${challenge.status}`);
  const signature = await account.signMessage({ message: challenge.body.message });
  const res = await api("POST", "/v1/auth/siwe/verify", { body: { message: challenge.body.message, signature } });
  if (res.status !== 200) throw new Error(`verify ${res.status} ${JSON.stringify(res.body)}`);
  return { account, ...res.body };
}

let handleSeq = 0;
/** A signed-in user with a unique handle. */
export async function signUp(prefix = "user"): Promise<SignedIn & { handle: string }> {
  const s = await signIn();
  const handle = `${prefix}_${Date.now().toString(36)}${(handleSeq++).toString(36)}`.slice(0, 30);
  const res = await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { handle } });
  if (res.status !== 200) throw new Error(`profile ${res.status} ${JSON.stringify(res.body)}`);
  return { ...s, handle, user: res.body.user };
}

/** Response fields that are credentials (tokens, signing secrets, codes). */
function pickSecrets(body: unknown): string[] {
  if (!body || typeof body !== "object") return [];
  const b = body as Record<string, unknown>;
  return ["accessToken", "refreshToken", "signingSecret", "code"]
    .map((k) => b[k])
    .filter((v) => typeof v === "string") as string[];
}
