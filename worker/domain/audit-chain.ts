// The audit hash chain, as pure functions (the Account, the ops routes and the
// offline verifier `npm run ops -- audit-verify` all use these).
//
// Each Account's ledger is its own hash chain: every entry's hash covers the
// previous entry's hash and the entry's fields, so an Account's history is
// chained where it is already serialised (no global writer). Entries hold ids,
// kinds, amounts and references (message ids, user ids, reason codes) — no PII.
// The Account's head (last hash and its entry id) travels with the totals it
// flushes; a Cron checkpoint signs the Merkle root over every Account's head.
import { hash } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils";

export const AUDIT_SCHEME = "paid-inbox/audit/v1";

/** The fields of a ledger entry the hash covers (amounts as decimal strings). */
export interface ChainedEntry {
  id: number;
  kind: string;
  amount: string;
  dBalance: string;
  dHeld: string;
  dFees: string;
  balanceAfter: string;
  ref: string | null;
  createdAt: number;
  hash: string | null;
}

// node:crypto (native in workerd with nodejs_compat, and in Node for the offline
// verifier): synchronous — a Durable Object transaction cannot await WebCrypto.
// The one-shot `hash()` rather than createHash(): measured in workerd, 5.9 µs
// per entry against 12.4 µs (no Hash/stream object per call) and a pure-JS
// SHA-256's ~85 µs — five entries are hashed per send.
const hex = (s: string) => hash("sha256", s, "hex");

/** The "previous hash" of an Account's first entry: binds the chain to its Account. */
export function genesis(accountId: string): string {
  return hex(`${AUDIT_SCHEME}/genesis:${accountId}`);
}

/** hash = sha256(JSON [scheme, prev, fields…]): JSON keeps field boundaries unambiguous. */
export function entryHash(prev: string, e: Omit<ChainedEntry, "hash">): string {
  return hex(
    JSON.stringify([
      AUDIT_SCHEME,
      prev,
      e.id,
      e.kind,
      e.amount,
      e.dBalance,
      e.dHeld,
      e.dFees,
      e.balanceAfter,
      e.ref,
      e.createdAt,
    ]),
  );
}

export type ChainProblem = "gap" | "hash_mismatch" | "unhashed";

export interface ChainVerdict {
  verified: boolean;
  /** Entries checked. */
  count: number;
  /** Hash and id of the last entry that verified. */
  head: string;
  headSeq: number;
  /** The first entry that does not verify, and why. */
  brokenAt: { id: number; problem: ChainProblem } | null;
}

/**
 * Walks entries in id order from `prev` (genesis, or the hash of the entry just
 * before the first one given). Detects an edited entry (its hash no longer
 * matches), a removed or reordered one (ids not consecutive) and a forged hash
 * (which breaks the next entry's link).
 */
export function verifyChain(entries: ChainedEntry[], prev: string, prevSeq = 0): ChainVerdict {
  let head = prev;
  let seq = prevSeq;
  for (const e of entries) {
    const fail = (problem: ChainProblem): ChainVerdict => ({
      verified: false,
      count: entries.length,
      head,
      headSeq: seq,
      brokenAt: { id: e.id, problem },
    });
    if (e.id !== seq + 1) return fail("gap");
    if (e.hash === null) return fail("unhashed");
    if (entryHash(head, e) !== e.hash) return fail("hash_mismatch");
    head = e.hash;
    seq = e.id;
  }
  return { verified: true, count: entries.length, head, headSeq: seq, brokenAt: null };
}

// ── Merkle tree over every Account's head (one leaf per Account, sorted by id) ──

export interface Leaf {
  accountId: string;
  seq: number;
  head: string;
}

export const leafHash = (l: Leaf) => hex(`${AUDIT_SCHEME}/leaf:${l.accountId}:${l.seq}:${l.head}`);
const nodeHash = (a: string, b: string) => hex(`${AUDIT_SCHEME}/node:${a}${b}`);

/** Root over leaf hashes; an odd node is carried up unchanged. The empty tree's root is the scheme's hash. */
export function merkleRoot(leafHashes: string[]): string {
  if (leafHashes.length === 0) return hex(`${AUDIT_SCHEME}/empty`);
  let level = leafHashes;
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? nodeHash(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0];
}

/** Sibling hashes from the leaf up; `left` says the sibling is on the left. */
export type MerkleProof = { hash: string; left: boolean }[];

export function merkleProof(leafHashes: string[], index: number): MerkleProof {
  const proof: MerkleProof = [];
  let level = leafHashes;
  let i = index;
  while (level.length > 1) {
    const sibling = i % 2 === 0 ? i + 1 : i - 1;
    if (sibling < level.length) proof.push({ hash: level[sibling], left: sibling < i });
    const next: string[] = [];
    for (let j = 0; j < level.length; j += 2)
      next.push(j + 1 < level.length ? nodeHash(level[j], level[j + 1]) : level[j]);
    level = next;
    i = Math.floor(i / 2);
  }
  return proof;
}

export function verifyProof(leaf: string, proof: MerkleProof, root: string): boolean {
  let h = leaf;
  for (const p of proof) h = p.left ? nodeHash(p.hash, h) : nodeHash(h, p.hash);
  return h === root;
}

// ── Signed checkpoints (Ed25519; the key is the AUDIT_SIGNING_KEY secret, a 32-byte seed) ──

export interface CheckpointBody {
  id: number;
  createdAt: number;
  accounts: number;
  root: string;
}

export const checkpointMessage = (c: CheckpointBody) =>
  utf8ToBytes(`${AUDIT_SCHEME}/checkpoint:${c.id}:${c.createdAt}:${c.accounts}:${c.root}`);

export function signingKeyFrom(seedBase64: string): { seed: Uint8Array; publicKey: string } {
  const seed = Uint8Array.from(atob(seedBase64.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
  if (seed.length !== 32) throw new Error("AUDIT_SIGNING_KEY must be 32 bytes, base64-encoded");
  return { seed, publicKey: bytesToHex(ed25519.getPublicKey(seed)) };
}

export function signCheckpoint(c: CheckpointBody, seed: Uint8Array): string {
  return bytesToHex(ed25519.sign(checkpointMessage(c), seed));
}

export function verifyCheckpoint(c: CheckpointBody, signature: string, publicKey: string): boolean {
  try {
    return ed25519.verify(hexToBytes(signature), checkpointMessage(c), hexToBytes(publicKey));
  } catch {
    return false;
  }
}

// ── Exports checked offline (`npm run ops -- audit-verify FILE`) ──────────────

/** What `npm run ops -- audit-verify --account ID --out FILE` saves: a whole chain and its checkpoint proof. */
export interface AuditExport {
  scheme: string;
  accountId: string;
  entries: ChainedEntry[];
  inclusion: {
    checkpoint: CheckpointBody & { createdAtMs: number; signature: string; publicKey: string };
    leaf: Leaf;
    proof: MerkleProof;
  } | null;
}

export interface ExportVerdict {
  verified: boolean;
  chain: ChainVerdict;
  checkpoint: {
    id: number;
    signature: boolean;
    pinnedKey: boolean | null;
    included: boolean;
    matchesChain: boolean;
  } | null;
  /** Human-readable problems, each locating what failed. */
  problems: string[];
}

/** Checks an export with nothing but its content (and optionally the public key you trust). */
export function verifyExport(x: AuditExport, trustedPublicKey?: string): ExportVerdict {
  const problems: string[] = [];
  if (x.scheme !== AUDIT_SCHEME) problems.push(`unknown scheme ${x.scheme}`);
  const chain = verifyChain(x.entries, genesis(x.accountId));
  if (chain.brokenAt) {
    problems.push(
      `entry ${chain.brokenAt.id}: ${chain.brokenAt.problem === "gap" ? "missing or reordered entries before it" : chain.brokenAt.problem === "unhashed" ? "has no hash" : "content does not match its hash (edited)"}`,
    );
  }
  let checkpoint: ExportVerdict["checkpoint"] = null;
  if (x.inclusion) {
    const { checkpoint: cp, leaf, proof } = x.inclusion;
    const body = { id: cp.id, createdAt: cp.createdAtMs, accounts: cp.accounts, root: cp.root };
    const signature = verifyCheckpoint(body, cp.signature, cp.publicKey);
    const pinnedKey = trustedPublicKey ? trustedPublicKey.toLowerCase() === cp.publicKey.toLowerCase() : null;
    const included = leaf.accountId === x.accountId && verifyProof(leafHash(leaf), proof, cp.root);
    const atLeaf = x.entries.find((e) => e.id === leaf.seq);
    const matchesChain = atLeaf?.hash === leaf.head && (chain.verified || (chain.brokenAt?.id ?? 0) > leaf.seq);
    if (!signature) problems.push(`checkpoint ${cp.id}: signature does not verify`);
    if (pinnedKey === false) problems.push(`checkpoint ${cp.id}: signed by a key you do not trust`);
    if (!included) problems.push(`checkpoint ${cp.id}: this account's leaf is not under its root`);
    if (!matchesChain)
      problems.push(`checkpoint ${cp.id}: the chain's hash at entry ${leaf.seq} is not the signed head`);
    checkpoint = { id: cp.id, signature, pinnedKey, included, matchesChain };
  }
  return { verified: problems.length === 0, chain, checkpoint, problems };
}
