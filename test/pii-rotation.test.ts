// PII key rotation: rows sealed under the old key are re-encrypted and
// re-indexed under the new one in resumable batches; afterwards the old key can
// go, and the rotation is recorded in the ops audit chain.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { findDiscoverableUserIdByPhone } from "../worker/identity/phone-lookup";
import { OPS_AUDIT_ACCOUNT } from "../worker/ops/pii-rotation";
import { api, signUp } from "./helpers";
import { apiWith, uniquePhone, verifyTarget } from "./identity-helpers";

const NEW_KEY = "bmV3LXBpaS1rZXktZm9yLXJvdGF0aW9uLXRlc3QtMzI="; // 32 bytes
const ROTATING = { PII_KEY: NEW_KEY, PII_KEY_PREVIOUS: env.PII_KEY, PII_KEY_VERSION: "2" };
const ROTATED = { PII_KEY: NEW_KEY, PII_KEY_PREVIOUS: "", PII_KEY_VERSION: "2" };

describe("rotate-pii-key", () => {
  it("re-seals every row under the new key, resumably, then works without the old key", async () => {
    const users = [];
    for (let i = 0; i < 3; i++) {
      const u = await signUp("rot");
      const phone = uniquePhone();
      await verifyTarget(u.accessToken, "phone", phone);
      expect(
        (await api("PUT", "/v1/me/profile", { token: u.accessToken, body: { discoverableByPhone: true } })).status,
      ).toBe(200);
      users.push({ u, phone });
    }
    // Phone discovery goes through the blind index (worker/identity/phone-lookup.ts).
    const lookup = async (vars: Record<string, string>, phone: string) => {
      const id = await findDiscoverableUserIdByPhone({ ...env, ...vars } as Env, phone);
      return { status: id ? 200 : 404, body: { id } };
    };
    expect((await lookup({}, users[0].phone)).status).toBe(200);
    // With only the new key, the old rows cannot be found: the rotation is needed.
    expect((await lookup(ROTATED, users[0].phone)).status).toBe(404);
    // During the rotation both keys work.
    expect((await lookup(ROTATING, users[0].phone)).status).toBe(200);

    const admin = (vars: Record<string, string>, limit: number) =>
      apiWith(vars, "POST", "/v1/ops/pii/reseal", { token: env.ADMIN_TOKEN, body: { limit } });
    const first = await admin(ROTATING, 2);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ keyVersion: 2, resealed: 2, done: false });
    let last = first.body;
    for (let i = 0; i < 20 && !last.done; i++) last = (await admin(ROTATING, 2)).body;
    expect(last).toMatchObject({ done: true, remaining: 0 });
    const { results } = await env.DB.prepare(
      "SELECT key_version FROM user_contacts UNION ALL SELECT key_version FROM verifications",
    ).all<{ key_version: number }>();
    expect(results.every((r) => r.key_version === 2)).toBe(true);
    // Resumable: running again finds nothing to do.
    expect((await admin(ROTATING, 2)).body).toMatchObject({ resealed: 0, done: true });

    for (const { u, phone } of users) {
      const r = await lookup(ROTATED, phone);
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(u.user.id);
    }
    const audit = await api("GET", `/v1/ops/audit?account=${OPS_AUDIT_ACCOUNT}`, { token: env.ADMIN_TOKEN });
    expect(audit.body.account.entries.map((e: { kind: string; ref: string }) => `${e.kind}:${e.ref}`)).toContain(
      "key_rotation:pii:v2",
    );
  });
});
