// Audit checkpoints and the admin view of the audit log (GET /v1/ops/audit).
// The Cron signs, at a fixed interval, the Merkle root over every Account's
// audit head as flushed into account_totals (worker/domain/audit-chain.ts).
import {
  type CheckpointBody,
  type Leaf,
  leafHash,
  merkleProof,
  merkleRoot,
  signCheckpoint,
  signingKeyFrom,
  verifyCheckpoint,
  verifyProof,
} from "../domain/audit-chain";

/** Leaves of this many newest checkpoints are kept for inclusion proofs (bounded D1). */
export const AUDIT_LEAF_CHECKPOINTS = 2;
const PAGE = 500;

export interface Checkpoint extends CheckpointBody {
  signature: string;
  publicKey: string;
}

export function checkpointIntervalMinutes(env: Env): number {
  const n = Number((env as unknown as Record<string, string | undefined>).AUDIT_CHECKPOINT_MINUTES ?? "60");
  return Number.isInteger(n) && n > 0 ? n : 60;
}

/** Is a checkpoint due at this cron tick? (Fixed interval on the wall clock.) */
export function checkpointDue(env: Env, scheduledTime: number): boolean {
  return Math.floor(scheduledTime / 60_000) % checkpointIntervalMinutes(env) === 0;
}

async function allLeaves(env: Env): Promise<Leaf[]> {
  const out: Leaf[] = [];
  let after = "";
  for (;;) {
    const { results } = await env.DB.prepare(
      "SELECT account_id, seq, audit_head FROM account_totals WHERE account_id > ? AND audit_head IS NOT NULL ORDER BY account_id LIMIT ?",
    )
      .bind(after, PAGE)
      .all<{ account_id: string; seq: number; audit_head: string }>();
    for (const r of results) out.push({ accountId: r.account_id, seq: r.seq, head: r.audit_head });
    if (results.length < PAGE) return out;
    after = results[results.length - 1].account_id;
  }
}

/** Builds, signs and stores a checkpoint over every Account's head; null without a signing key. */
export async function buildCheckpoint(env: Env, now = Date.now()): Promise<Checkpoint | null> {
  const secret = (env as unknown as Record<string, string | undefined>).AUDIT_SIGNING_KEY;
  if (!secret) return null;
  const { seed, publicKey } = signingKeyFrom(secret);
  const leaves = await allLeaves(env);
  const last = await env.DB.prepare("SELECT MAX(id) AS id FROM audit_checkpoints").first<{ id: number | null }>();
  const body: CheckpointBody = {
    id: (last?.id ?? 0) + 1,
    createdAt: now,
    accounts: leaves.length,
    root: merkleRoot(leaves.map(leafHash)),
  };
  const cp: Checkpoint = { ...body, signature: signCheckpoint(body, seed), publicKey };
  const insertLeaf = env.DB.prepare(
    "INSERT INTO audit_leaves (checkpoint_id, account_id, seq, head) VALUES (?, ?, ?, ?)",
  );
  const statements = [
    env.DB.prepare(
      "INSERT INTO audit_checkpoints (id, created_at, accounts, root, signature, public_key) VALUES (?, ?, ?, ?, ?, ?)",
    ).bind(cp.id, cp.createdAt, cp.accounts, cp.root, cp.signature, cp.publicKey),
    ...leaves.map((l) => insertLeaf.bind(cp.id, l.accountId, l.seq, l.head)),
    env.DB.prepare("DELETE FROM audit_leaves WHERE checkpoint_id <= ?").bind(cp.id - AUDIT_LEAF_CHECKPOINTS),
  ];
  // The checkpoint row (primary key id) is in the first batch: a concurrent run fails there, not halfway.
  for (let i = 0; i < statements.length; i += 100) await env.DB.batch(statements.slice(i, i + 100));
  return cp;
}

type CheckpointRow = {
  id: number;
  created_at: number;
  accounts: number;
  root: string;
  signature: string;
  public_key: string;
};

const fromRow = (r: CheckpointRow): Checkpoint => ({
  id: r.id,
  createdAt: r.created_at,
  accounts: r.accounts,
  root: r.root,
  signature: r.signature,
  publicKey: r.public_key,
});

/** The public key checkpoints must be signed with: the signing key's (so a forged key is caught). */
function expectedPublicKey(env: Env): string | null {
  const secret = (env as unknown as Record<string, string | undefined>).AUDIT_SIGNING_KEY;
  return secret ? signingKeyFrom(secret).publicKey : null;
}

/** Checkpoints, newest first, each with whether its signature verifies under our key. */
export async function listCheckpoints(env: Env, before: number | null, limit: number) {
  const { results } = await env.DB.prepare("SELECT * FROM audit_checkpoints WHERE id < ? ORDER BY id DESC LIMIT ?")
    .bind(before ?? Number.MAX_SAFE_INTEGER, limit + 1)
    .all<CheckpointRow>();
  const more = results.length > limit;
  const key = expectedPublicKey(env);
  const items = (more ? results.slice(0, limit) : results).map(fromRow).map((c) => ({
    ...c,
    createdAt: new Date(c.createdAt).toISOString(),
    createdAtMs: c.createdAt,
    verified: verifyCheckpoint(c, c.signature, key ?? c.publicKey) && (key === null || key === c.publicKey),
  }));
  return { items, nextCursor: more ? String(items[items.length - 1].id) : null };
}

/**
 * The newest checkpoint that has this Account's leaf, with its Merkle proof and
 * whether the proof leads to the signed root.
 */
export async function inclusion(env: Env, accountId: string) {
  const leaf = await env.DB.prepare(
    "SELECT checkpoint_id, seq, head FROM audit_leaves WHERE account_id = ? ORDER BY checkpoint_id DESC LIMIT 1",
  )
    .bind(accountId)
    .first<{ checkpoint_id: number; seq: number; head: string }>();
  if (!leaf) return null;
  const row = await env.DB.prepare("SELECT * FROM audit_checkpoints WHERE id = ?")
    .bind(leaf.checkpoint_id)
    .first<CheckpointRow>();
  if (!row) return null;
  const { results } = await env.DB.prepare(
    "SELECT account_id, seq, head FROM audit_leaves WHERE checkpoint_id = ? ORDER BY account_id",
  )
    .bind(leaf.checkpoint_id)
    .all<{ account_id: string; seq: number; head: string }>();
  const hashes = results.map((r) => leafHash({ accountId: r.account_id, seq: r.seq, head: r.head }));
  const index = results.findIndex((r) => r.account_id === accountId);
  const proof = merkleProof(hashes, index);
  const cp = fromRow(row);
  const key = expectedPublicKey(env);
  return {
    checkpoint: { ...cp, createdAt: new Date(cp.createdAt).toISOString(), createdAtMs: cp.createdAt },
    leaf: { accountId, seq: leaf.seq, head: leaf.head },
    proof,
    included: verifyProof(hashes[index], proof, cp.root),
    signatureVerified:
      verifyCheckpoint(cp, cp.signature, key ?? cp.publicKey) && (key === null || key === cp.publicKey),
  };
}
