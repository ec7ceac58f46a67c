// Re-sealing PII after a PII_KEY rotation (docs/runbooks/key-rotation.md): every
// user_contacts and verifications row still sealed under an older key version is
// decrypted with PII_KEY_PREVIOUS and sealed and blind-indexed again under
// PII_KEY. Each call does at most `limit` rows; a row is updated only if it is
// still at the version read (compare-and-set), so runs are resumable and may
// overlap. When nothing is left, the rotation is recorded in the ops audit chain.
// Plaintext exists only in memory here and is never logged.
import { identityConfig } from "../identity/config";
import { blindIndex, type Channel, contactContext, open, seal, verificationContext } from "../identity/pii";

/** The Account whose audit chain records system-wide admin events (key rotations). */
export const OPS_AUDIT_ACCOUNT = "ops_audit";

export async function resealPii(env: Env, limit: number) {
  const version = identityConfig(env).piiKeyVersion;
  let resealed = 0;
  const contacts = await env.DB.prepare(
    "SELECT user_id, channel, ciphertext, iv, key_version FROM user_contacts WHERE key_version < ? LIMIT ?",
  )
    .bind(version, limit)
    .all<{ user_id: string; channel: Channel; ciphertext: string; iv: string; key_version: number }>();
  for (const r of contacts.results) {
    const ctx = contactContext(r.user_id, r.channel);
    const plain = await open(env, { ciphertext: r.ciphertext, iv: r.iv, keyVersion: r.key_version }, ctx);
    const s = await seal(env, plain, ctx);
    const res = await env.DB.prepare(
      "UPDATE user_contacts SET ciphertext = ?, iv = ?, key_version = ?, blind_index = ? WHERE user_id = ? AND channel = ? AND key_version = ?",
    )
      .bind(
        s.ciphertext,
        s.iv,
        s.keyVersion,
        await blindIndex(env, r.channel, plain),
        r.user_id,
        r.channel,
        r.key_version,
      )
      .run();
    resealed += res.meta.changes ?? 0;
  }
  const left = Math.max(0, limit - contacts.results.length);
  const verifications = left
    ? await env.DB.prepare(
        "SELECT id, channel, target_ciphertext, target_iv, key_version FROM verifications WHERE key_version < ? LIMIT ?",
      )
        .bind(version, left)
        .all<{ id: string; channel: Channel; target_ciphertext: string; target_iv: string; key_version: number }>()
    : { results: [] };
  for (const r of verifications.results) {
    const ctx = verificationContext(r.id, r.channel);
    const plain = await open(env, { ciphertext: r.target_ciphertext, iv: r.target_iv, keyVersion: r.key_version }, ctx);
    const s = await seal(env, plain, ctx);
    const res = await env.DB.prepare(
      "UPDATE verifications SET target_ciphertext = ?, target_iv = ?, key_version = ?, target_blind_index = ? WHERE id = ? AND key_version = ?",
    )
      .bind(s.ciphertext, s.iv, s.keyVersion, await blindIndex(env, r.channel, plain), r.id, r.key_version)
      .run();
    resealed += res.meta.changes ?? 0;
  }
  const remaining = await env.DB.prepare(
    "SELECT (SELECT COUNT(*) FROM user_contacts WHERE key_version < ?1) + (SELECT COUNT(*) FROM verifications WHERE key_version < ?1) AS n",
  )
    .bind(version)
    .first<{ n: number }>();
  const done = (remaining?.n ?? 0) === 0;
  if (done && resealed > 0) {
    await env.ACCOUNT.getByName(OPS_AUDIT_ACCOUNT).auditNote("key_rotation", `pii:v${version}`);
  }
  return { keyVersion: version, resealed, remaining: remaining?.n ?? 0, done };
}
