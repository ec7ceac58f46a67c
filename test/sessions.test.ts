// Settings → sessions: the live sessions of a user (device, created, last used,
// which one is asking), revoking one, and never a token value in the answer.
import { env } from "cloudflare:test";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { deviceOf } from "../worker/auth/device";
import { api } from "./helpers";

const MAC_CHROME =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36";
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";

async function signInAs(account: ReturnType<typeof privateKeyToAccount>, userAgent: string) {
  const headers = { "user-agent": userAgent };
  const ch = await api("POST", "/v1/auth/siwe/challenge", { body: { address: account.address }, headers });
  const signature = await account.signMessage({ message: ch.body.message });
  const r = await api("POST", "/v1/auth/siwe/verify", { body: { message: ch.body.message, signature }, headers });
  expect(r.status).toBe(200);
  return r.body as { accessToken: string; refreshToken: string };
}

describe("device summaries", () => {
  it("names browsers and API clients in a few words, and keeps nothing else of the User-Agent", () => {
    expect(deviceOf(MAC_CHROME)).toBe("Chrome on macOS");
    expect(deviceOf(IPHONE)).toBe("Safari on iOS");
    expect(deviceOf("curl/8.5.0")).toBe("curl/8.5.0");
    expect(deviceOf("")).toBeNull();
    expect(deviceOf(undefined)).toBeNull();
    expect(deviceOf(`x${"y".repeat(500)}`)?.length).toBe(60);
  });
});

describe("sessions", () => {
  it("lists each sign-in once with its device and times, marks the caller's own, and survives rotation", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const laptop = await signInAs(account, MAC_CHROME);
    const phone = await signInAs(account, IPHONE);

    // The phone refreshes: still one session, same id, later last-used time.
    await new Promise((r) => setTimeout(r, 5));
    const rotated = await api("POST", "/v1/auth/refresh", { body: { refreshToken: phone.refreshToken } });
    expect(rotated.status).toBe(200);

    const list = await api("GET", "/v1/me/sessions", { token: laptop.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.sessions).toHaveLength(2);
    const [first, second] = list.body.sessions;
    expect(first).toMatchObject({ device: "Safari on iOS", current: false });
    expect(second).toMatchObject({ device: "Chrome on macOS", current: true });
    expect(Date.parse(first.lastUsedAt)).toBeGreaterThan(Date.parse(first.createdAt));
    expect(second.lastUsedAt).toBe(second.createdAt);
    // The phone's own view after rotation: its session is the current one.
    const fromPhone = await api("GET", "/v1/me/sessions", { token: rotated.body.accessToken });
    expect(fromPhone.body.sessions.find((s: { current: boolean }) => s.current).id).toBe(first.id);

    // No token value (or its hash) anywhere in the answer.
    const text = JSON.stringify(list.body);
    const hashes = await env.DB.prepare("SELECT token_hash FROM refresh_tokens").all<{ token_hash: string }>();
    for (const secret of [laptop.refreshToken, phone.refreshToken, rotated.body.refreshToken, laptop.accessToken]) {
      expect(text).not.toContain(secret);
    }
    for (const h of hashes.results) expect(text).not.toContain(h.token_hash);
  });

  it("revokes one session: its refresh token stops working, the others keep theirs", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const laptop = await signInAs(account, MAC_CHROME);
    const phone = await signInAs(account, IPHONE);
    const list = await api("GET", "/v1/me/sessions", { token: laptop.accessToken });
    const phoneSession = list.body.sessions.find((s: { device: string }) => s.device === "Safari on iOS");

    expect((await api("DELETE", `/v1/me/sessions/${phoneSession.id}`, { token: laptop.accessToken })).status).toBe(204);
    expect((await api("POST", "/v1/auth/refresh", { body: { refreshToken: phone.refreshToken } })).status).toBe(401);
    expect((await api("POST", "/v1/auth/refresh", { body: { refreshToken: laptop.refreshToken } })).status).toBe(200);
    const after = await api("GET", "/v1/me/sessions", { token: laptop.accessToken });
    expect(after.body.sessions.map((s: { id: string }) => s.id)).not.toContain(phoneSession.id);
    expect(after.body.sessions).toHaveLength(1);
    // Again: already signed out.
    const again = await api("DELETE", `/v1/me/sessions/${phoneSession.id}`, { token: laptop.accessToken });
    expect(again.status).toBe(404);
    expect(again.body.error).toBe("session_not_found");
  });

  it("cannot see or revoke another user's sessions", async () => {
    const alice = await signInAs(privateKeyToAccount(generatePrivateKey()), MAC_CHROME);
    const mallory = await signInAs(privateKeyToAccount(generatePrivateKey()), IPHONE);
    const [aliceSession] = (await api("GET", "/v1/me/sessions", { token: alice.accessToken })).body.sessions;
    const mine = (await api("GET", "/v1/me/sessions", { token: mallory.accessToken })).body.sessions;
    expect(mine.map((s: { id: string }) => s.id)).not.toContain(aliceSession.id);
    const r = await api("DELETE", `/v1/me/sessions/${aliceSession.id}`, { token: mallory.accessToken });
    expect(r.status).toBe(404);
    expect((await api("POST", "/v1/auth/refresh", { body: { refreshToken: alice.refreshToken } })).status).toBe(200);
    expect((await api("GET", "/v1/me/sessions")).status).toBe(401);
  });
});
