// The audit hash chain: each Account's ledger chains every entry to the one
// before; heads reach D1 with the flushed totals; a signed checkpoint covers all
// heads; edits, removals and forged hashes are detected and located, online
// (GET /v1/ops/audit) and offline (verifyExport, used by `npm run ops -- audit-verify`).
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import {
  AUDIT_SCHEME,
  type AuditExport,
  entryHash,
  genesis,
  leafHash,
  merkleProof,
  merkleRoot,
  verifyChain,
  verifyExport,
  verifyProof,
} from "../worker/domain/audit-chain";
import { api } from "./helpers";
import { funded, send, settled, type User } from "./send-helpers";

const admin = (path: string) => api("GET", path, { token: env.ADMIN_TOKEN });

async function flushed(u: User) {
  await runInDurableObject(env.ACCOUNT.getByName(u.user.id), (a: Account) => a.flush());
  const seq = await runInDurableObject(
    env.ACCOUNT.getByName(u.user.id),
    (_a: Account, state) => state.storage.sql.exec<{ id: number }>("SELECT MAX(id) AS id FROM ledger").one().id,
  );
  for (let i = 0; i < 200; i++) {
    const row = await env.DB.prepare("SELECT seq, audit_head FROM account_totals WHERE account_id = ?")
      .bind(u.user.id)
      .first<{ seq: number; audit_head: string | null }>();
    if (row && row.seq >= seq && row.audit_head) return row;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("totals did not reach D1");
}

async function exportOf(u: User): Promise<AuditExport> {
  const entries = [];
  let cursor = "";
  let inclusion = null;
  for (;;) {
    const r = await admin(`/v1/ops/audit?account=${u.user.id}&limit=50${cursor ? `&cursor=${cursor}` : ""}`);
    expect(r.status).toBe(200);
    entries.push(...r.body.account.entries);
    inclusion = r.body.account.inclusion;
    if (!r.body.account.nextCursor) break;
    cursor = r.body.account.nextCursor;
  }
  return { scheme: AUDIT_SCHEME, accountId: u.user.id, entries, inclusion };
}

describe("audit hash chain", () => {
  it("concurrent sends, top-ups and blocks leave one chain per Account: no fork, no gap", async () => {
    const a = await funded("50000000", "aud_a");
    const b = await funded("50000000", "aud_b");
    const c = await funded("0", "aud_c");
    const results = await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => send(a, c, `a to c ${i}`)),
      ...Array.from({ length: 12 }, (_, i) => send(b, c, `b to c ${i}`)),
      ...Array.from({ length: 6 }, (_, i) => send(a, b, `a to b ${i}`)),
      ...Array.from({ length: 3 }, () =>
        api("POST", "/v1/payments/topup", { token: a.accessToken, body: { amount: "1000" } }),
      ),
      api("PUT", `/v1/me/blocklist/${a.handle}`, { token: b.accessToken }),
    ]);
    expect(results.filter((r) => r.status >= 500)).toEqual([]);
    await settled(a, b, c);
    for (const u of [a, b, c]) {
      const r = await admin(`/v1/ops/audit?account=${u.user.id}&limit=1000`);
      expect(r.status).toBe(200);
      const acct = r.body.account;
      expect(acct.chain).toMatchObject({ verified: true, brokenAt: null });
      // Independently: ids 1..n with no gap, each hash linking to the one before.
      const ids = acct.entries.map((e: { id: number }) => e.id);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
      let prev = genesis(u.user.id);
      for (const e of acct.entries) {
        expect(e.hash).toBe(entryHash(prev, e));
        prev = e.hash;
      }
      expect(acct.head).toBe(prev);
      expect(acct.headSeq).toBe(ids.length);
    }
    // The block is in b's chain as a moderation entry; no PII, just the user id.
    const bChain = (await admin(`/v1/ops/audit?account=${b.user.id}&limit=1000`)).body.account.entries;
    expect(bChain.find((e: { kind: string }) => e.kind === "block")).toMatchObject({ ref: a.user.id, amount: "0" });
  });

  it("the head travels with the flushed totals and a signed checkpoint proves it", async () => {
    const a = await funded("3000000", "aud_ck");
    const b = await funded("0", "aud_ck2");
    expect((await send(a, b, "checkpointed")).status).toBe(201);
    await settled(a, b);
    const row = await flushed(a);
    await flushed(b);
    const made = await api("POST", "/v1/ops/audit/checkpoints", { token: env.ADMIN_TOKEN });
    expect(made.status).toBe(201);
    const r = await admin(`/v1/ops/audit?account=${a.user.id}`);
    expect(r.body.checkpoints[0]).toMatchObject({ id: made.body.id, verified: true });
    expect(r.body.account.inclusion).toMatchObject({
      included: true,
      signatureVerified: true,
      matchesChain: true,
      leaf: { accountId: a.user.id, seq: row.seq, head: row.audit_head },
    });
    expect(r.body.account.verified).toBe(true);

    // Offline: the export verifies; the pinned key must be the signer's.
    const x = await exportOf(a);
    expect(verifyExport(x, made.body.publicKey)).toMatchObject({ verified: true, problems: [] });
    expect(verifyExport(x, "00".repeat(32)).problems).toContain(
      `checkpoint ${made.body.id}: signed by a key you do not trust`,
    );
  });

  it("detects and locates tampering: an edited amount, a removed entry, a forged hash, a forged checkpoint", async () => {
    const a = await funded("9000000", "aud_t");
    const b = await funded("0", "aud_t2");
    for (let i = 0; i < 3; i++) expect((await send(a, b, `t${i}`)).status).toBe(201);
    await settled(a, b);
    await flushed(a);
    await api("POST", "/v1/ops/audit/checkpoints", { token: env.ADMIN_TOKEN });
    const clean = await exportOf(a);
    expect(verifyExport(clean).verified).toBe(true);
    const n = clean.entries.length;
    expect(n).toBeGreaterThanOrEqual(7);

    const edited = structuredClone(clean);
    edited.entries[3].amount = "1";
    expect(verifyExport(edited)).toMatchObject({
      verified: false,
      chain: { brokenAt: { id: 4, problem: "hash_mismatch" } },
    });
    expect(verifyExport(edited).problems[0]).toBe("entry 4: content does not match its hash (edited)");

    const removed = structuredClone(clean);
    removed.entries.splice(2, 1);
    expect(verifyExport(removed).chain.brokenAt).toEqual({ id: 4, problem: "gap" });

    // Rewriting an entry AND its hash breaks the link of the next one.
    const forged = structuredClone(clean);
    forged.entries[4].amount = "1";
    forged.entries[4].hash = entryHash(forged.entries[3].hash!, forged.entries[4]);
    expect(verifyExport(forged).chain.brokenAt).toEqual({ id: 6, problem: "hash_mismatch" });

    // Rewriting the whole tail consistently no longer matches the signed head.
    const rewritten = structuredClone(clean);
    rewritten.entries[1].amount = "1";
    let prev = rewritten.entries[0].hash!;
    for (const e of rewritten.entries.slice(1)) {
      e.hash = entryHash(prev, e);
      prev = e.hash;
    }
    const v = verifyExport(rewritten);
    expect(v.chain.verified).toBe(true);
    expect(v.verified).toBe(false);
    expect(v.problems.join()).toMatch(/is not the signed head/);

    const badSig = structuredClone(clean);
    badSig.inclusion!.checkpoint.root = "00".repeat(32);
    expect(verifyExport(badSig).problems.join()).toMatch(/signature does not verify/);

    // Online: tamper with the stored ledger itself and the API locates it.
    await runInDurableObject(env.ACCOUNT.getByName(a.user.id), (_a: Account, state) => {
      state.storage.sql.exec("UPDATE ledger SET amount = '999' WHERE id = 5");
    });
    const r = await admin(`/v1/ops/audit?account=${a.user.id}`);
    expect(r.body.account).toMatchObject({
      verified: false,
      chain: { verified: false, brokenAt: { id: 5, problem: "hash_mismatch" } },
    });
  });

  it("Merkle proofs hold for every leaf of odd and even trees", () => {
    for (const n of [1, 2, 3, 5, 8]) {
      const leaves = Array.from({ length: n }, (_, i) =>
        leafHash({ accountId: `u_${i}`, seq: i, head: genesis(`u_${i}`) }),
      );
      const root = merkleRoot(leaves);
      for (const [i, l] of leaves.entries()) expect(verifyProof(l, merkleProof(leaves, i), root)).toBe(true);
      expect(verifyProof(leafHash({ accountId: "u_x", seq: 0, head: "00" }), merkleProof(leaves, 0), root)).toBe(false);
    }
    expect(verifyChain([], genesis("u_1"))).toMatchObject({ verified: true, count: 0 });
  });
});
