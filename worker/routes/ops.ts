import { createRoute, z } from "@hono/zod-openapi";
import { readBatches } from "../archive";
import { requireChain } from "../chain/config";
import { rewindTo } from "../chain/indexer";
import { relayerStatus } from "../chain/relayer-status";
import { ApiError, notFound } from "../http/errors";
import { bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { requireAdmin } from "../middleware/auth";
import { listDeadLetters, redriveDeadLetters } from "../notify/consumer";
import { buildCheckpoint, inclusion, listCheckpoints } from "../ops/audit";
import { resealPii } from "../ops/pii-rotation";
import { opsStatus } from "../ops/status";
import { ledgerSummary } from "../queues/index-consumer";
import { findUser } from "../users";

/** Money totals summed over the per-Account totals rows, and whether they conserve. */
const LedgerSummary = z
  .object({
    topups: z.string(),
    deposits: z.string(),
    withdrawals: z.string(),
    balances: z.string(),
    held: z.string(),
    fees: z.string(),
    accounts: z.number(),
    conserved: z.boolean(),
  })
  .openapi("LedgerSummary");

const tags = ["Operations"];
const Hex = z.string().openapi({ example: "9f2c…e1" });

const summary = createRoute({
  method: "get",
  path: "/ledger-summary",
  tags,
  summary: "Money totals summed from the per-Account totals in D1 (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  responses: {
    200: jsonResponse(LedgerSummary, "Totals"),
    ...errors(401, 403),
  },
});

const Checkpoint = z
  .object({
    id: z.number().openapi({ example: 42 }),
    createdAt: z.string().openapi({ example: "2026-11-29T14:00:00.000Z" }),
    createdAtMs: z.number().openapi({ example: 1795960800000 }),
    accounts: z.number().openapi({ example: 1280 }),
    root: Hex,
    signature: Hex,
    publicKey: Hex,
  })
  .openapi("AuditCheckpoint");

const Entry = z
  .object({
    id: z.number().openapi({ example: 7 }),
    kind: z.string().openapi({ example: "receive" }),
    amount: z.string().openapi({ example: "1000000" }),
    dBalance: z.string(),
    dHeld: z.string(),
    dFees: z.string(),
    balanceAfter: z.string(),
    ref: z.string().nullable().openapi({ example: "0x5f…" }),
    createdAt: z.number(),
    hash: Hex.nullable(),
  })
  .openapi("AuditEntry");

const audit = createRoute({
  method: "get",
  path: "/audit",
  tags,
  summary: "Signed audit checkpoints, and one Account's hash-chained entries with whether they verify (admin)",
  description:
    "Each Account's ledger is a hash chain (every entry's hash covers the one before). `account` pages that chain oldest first " +
    "(`cursor` = last entry id seen) and checks the whole chain from its genesis; `brokenAt` locates the first entry that does " +
    "not verify. Checkpoints (newest first, `checkpointCursor`) sign the Merkle root over every Account's head; `inclusion` proves " +
    "this Account's head is in the newest checkpoint that has it. Save the pages and run `npm run ops -- audit-verify FILE` to " +
    "check an export offline.",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  request: {
    query: z.object({
      account: z.string().min(1).max(64).optional().openapi({ example: "u_3kT9…" }),
      cursor: z
        .string()
        .regex(/^\d{1,15}$/)
        .optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
      checkpointCursor: z
        .string()
        .regex(/^\d{1,15}$/)
        .optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({
        checkpoints: z.array(Checkpoint.extend({ verified: z.boolean() })),
        nextCheckpointCursor: z.string().nullable(),
        account: z
          .object({
            accountId: z.string(),
            head: Hex,
            headSeq: z.number(),
            verified: z.boolean().openapi({ description: "the whole chain, from genesis, and its checkpoint" }),
            chain: z.object({
              verified: z.boolean(),
              count: z.number(),
              head: Hex,
              headSeq: z.number(),
              brokenAt: z
                .object({ id: z.number(), problem: z.enum(["gap", "hash_mismatch", "unhashed"]) })
                .nullable()
                .openapi({ example: { id: 12, problem: "hash_mismatch" } }),
            }),
            prev: Hex,
            entries: z.array(Entry),
            nextCursor: z.string().nullable(),
            inclusion: z
              .object({
                checkpoint: Checkpoint,
                leaf: z.object({ accountId: z.string(), seq: z.number(), head: Hex }),
                proof: z.array(z.object({ hash: Hex, left: z.boolean() })),
                included: z.boolean(),
                signatureVerified: z.boolean(),
                matchesChain: z.boolean().openapi({ description: "the leaf's head is the chain's hash at that entry" }),
              })
              .nullable(),
          })
          .nullable(),
      }),
      "Checkpoints and, with `account`, that Account's chain",
    ),
    ...errors(400, 401, 403),
  },
});

const checkpoint = createRoute({
  method: "post",
  path: "/audit/checkpoints",
  tags,
  summary: "Build and sign an audit checkpoint now (admin; the Cron does this every AUDIT_CHECKPOINT_MINUTES)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  responses: {
    201: jsonResponse(Checkpoint, "Signed"),
    ...errors(401, 403, 503),
  },
});

const AccountParam = z.object({ userId: z.string().min(1).max(64).openapi({ example: "u_3kT9…" }) });
const Standing = z
  .object({
    userId: z.string(),
    frozen: z.boolean(),
    reason: z.string().nullable().openapi({ example: "chargeback investigation #123" }),
    reputation: z.record(z.string(), z.number()).nullable(),
  })
  .openapi("AccountStanding");

const standing = createRoute({
  method: "get",
  path: "/accounts/{userId}",
  tags,
  summary: "An account's standing: frozen or not, and its sender reputation counters (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  request: { params: AccountParam },
  responses: { 200: jsonResponse(Standing, "Standing"), ...errors(401, 403, 404) },
});

const FreezeBody = z
  .object({ reason: z.string().min(1).max(200).openapi({ example: "chargeback investigation #123" }) })
  .strict();

const freeze = createRoute({
  method: "post",
  path: "/accounts/{userId}/freeze",
  tags,
  summary: "Freeze an account: sends and withdrawals refused (403 account_frozen), reads allowed (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  request: { params: AccountParam, body: jsonBody(FreezeBody) },
  responses: { 200: jsonResponse(Standing, "Frozen"), ...errors(400, 401, 403, 404) },
});

const unfreeze = createRoute({
  method: "post",
  path: "/accounts/{userId}/unfreeze",
  tags,
  summary: "Unfreeze an account (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  request: { params: AccountParam, body: jsonBody(FreezeBody) },
  responses: { 200: jsonResponse(Standing, "Unfrozen"), ...errors(400, 401, 403, 404) },
});

async function standingOf(env: Env, userId: string) {
  const s = await env.ACCOUNT.getByName(userId).standing();
  return {
    userId,
    frozen: s.frozen !== null,
    reason: s.frozen,
    reputation: s.reputation as unknown as Record<string, number> | null,
  };
}

async function knownUser(env: Env, userId: string) {
  if (!(await findUser(env, userId))) throw notFound("user_not_found", "No such user.");
}

const QueueWindow = z.object({
  name: z.string(),
  processed: z.number(),
  retries: z.number(),
  deadLetters: z.number(),
  oldestMessageAgeMs: z.number().openapi({ description: "age of the oldest message consumed in the window" }),
  peakBacklog: z.number().openapi({ description: "most messages still waiting when the consumer took a batch" }),
});
const Backlog = z
  .object({
    name: z.string(),
    messages: z.number().nullable().openapi({ example: 0, description: "waiting now (Queue binding metrics())" }),
    bytes: z.number().nullable(),
    oldestAgeMs: z.number().nullable(),
  })
  .openapi({ description: "null figures: no producer binding for this queue (see lastHour.peakBacklog)" });
const Activity = z.object({
  requests: z.number(),
  signups: z.number(),
  messages: z.number(),
  volume: z.string().openapi({ example: "125000000", description: "price + fee of paid sends, base units" }),
  fees: z.string(),
  errors4xx: z.number(),
  errors5xx: z.number(),
  errorRate: z.number().openapi({ example: 0.001, description: "5xx per request" }),
  clientErrorRate: z.number(),
  abuseRefused: z.number(),
});

const status = createRoute({
  method: "get",
  path: "/status",
  tags,
  summary:
    "Queues, dead letters, indexer lag (chain mode), accounts, messages, volume, error rate, conservation (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  responses: {
    200: jsonResponse(
      z
        .object({
          version: z.string(),
          mode: z.enum(["simulated", "chain"]),
          generatedAt: z.string(),
          queues: z.array(
            z.object({ name: z.string(), backlog: Backlog.nullable(), lastHour: QueueWindow, lastDay: QueueWindow }),
          ),
          backlogs: z.array(Backlog),
          indexer: z.object({
            mode: z.enum(["off", "chain"]),
            checkpointBlock: z.number().nullable().optional(),
            headBlock: z.number().nullable().optional(),
            lagBlocks: z.number().nullable().optional(),
            lagSeconds: z.number().nullable().optional(),
            rpcError: z.string().nullable().optional(),
            relayerInFlight: z.array(z.unknown()).nullable().optional(),
          }),
          accounts: z.object({
            total: z.number(),
            newLastHour: z.number(),
            newLastDay: z.number(),
            withTotals: z.number(),
          }),
          activity: z.object({ lastHour: Activity, lastDay: Activity }),
          conservation: LedgerSummary,
          audit: z.object({
            latestCheckpoint: z.object({ id: z.number(), createdAt: z.string(), accounts: z.number() }).nullable(),
          }),
        })
        .openapi("OpsStatus"),
      "Status",
    ),
    ...errors(401, 403),
  },
});

const reseal = createRoute({
  method: "post",
  path: "/pii/reseal",
  tags,
  summary: "After a PII_KEY rotation: re-encrypt up to `limit` rows under the current key version (admin; resumable)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  request: {
    body: jsonBody(z.object({ limit: z.number().int().min(1).max(500).default(100) }).strict()),
  },
  responses: {
    200: jsonResponse(
      z.object({
        keyVersion: z.number().openapi({ example: 2 }),
        resealed: z.number().openapi({ example: 100 }),
        remaining: z.number().openapi({ example: 0 }),
        done: z.boolean(),
      }),
      "Progress",
    ),
    ...errors(400, 401, 403, 503),
  },
});

const relayerTx = z.object({
  nonce: z.number(),
  state: z.enum(["pending", "mined", "reverted", "superseded"]),
  payments: z.number(),
  createdAt: z.number(),
  minedHash: z.string().nullable(),
  blockNumber: z.number().nullable(),
  gasUsed: z.string().nullable(),
  attempts: z.array(
    z.object({
      hash: z.string(),
      maxFeePerGas: z.string(),
      maxPriorityFeePerGas: z.string(),
      sentAt: z.number(),
      broadcasts: z.number(),
    }),
  ),
});

const relayer = createRoute({
  method: "get",
  path: "/relayer",
  tags: ["Operations"],
  summary: "Chain mode: the relayer's address, next nonce, queued payments and in-flight transactions (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  responses: {
    200: jsonResponse(
      z.object({
        configured: z.boolean(),
        relayer: z.string().nullable(),
        chainId: z.number().nullable(),
        vault: z.string().nullable(),
        nextNonce: z.number().nullable(),
        queued: z.number(),
        failed: z
          .number()
          .openapi({ description: "payments given up on (transactions kept reverting), Account not told yet" }),
        reported: z
          .number()
          .openapi({ description: "payments given up on and reported to the payer's Account (payment_failed)" }),
        inFlight: z.array(relayerTx),
        recent: z.array(relayerTx),
        lastError: z.string().nullable(),
      }),
      "Relayer status",
    ),
    ...errors(401),
  },
});

const DeadLetterSchema = z.object({
  id: z.number(),
  key: z.string(),
  channel: z.string(),
  userId: z.string(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  redrivenAt: z.string().nullable(),
});

const deadLetters = createRoute({
  method: "get",
  path: "/deliveries/dead-letters",
  tags: ["Operations"],
  summary:
    "Notification deliveries and flush batches (channel `index`) that used up their retries, newest first (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  responses: {
    200: jsonResponse(z.object({ deadLetters: z.array(DeadLetterSchema) }), "Dead letters"),
    ...errors(401),
  },
});

const ArchivedBatch = z
  .object({
    v: z.literal(1),
    accountId: z.string(),
    seq: z.number(),
    frozenAt: z.number(),
    ledger: z.array(z.record(z.string(), z.unknown())),
    messages: z.array(z.record(z.string(), z.unknown())),
    totals: z.record(z.string(), z.unknown()),
  })
  .passthrough()
  .openapi("ArchivedBatch");

const archive = createRoute({
  method: "get",
  path: "/archive/{accountId}",
  tags,
  summary: "An Account's flushed batches from the R2 archive, oldest first (admin; `npm run ops -- export`)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  request: {
    params: z.object({ accountId: z.string().regex(/^u_[A-Za-z0-9_-]{1,64}$/) }),
    query: z.object({
      cursor: z.string().max(1024).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(50),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ batches: z.array(ArchivedBatch), nextCursor: z.string().nullable() }),
      "One page of batches",
    ),
    ...errors(400, 401, 403),
  },
});

const redrive = createRoute({
  method: "post",
  path: "/deliveries/redrive",
  tags: ["Operations"],
  summary:
    "Send dead letters not yet redriven back to their queue (deliveries; `index` for a flush batch), once each (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  request: {
    body: {
      content: {
        "application/json": { schema: z.object({ ids: z.array(z.number().int().positive()).max(100).optional() }) },
      },
      required: false,
    },
  },
  responses: { 200: jsonResponse(z.object({ redriven: z.number() }), "How many were queued"), ...errors(400, 401) },
});

const reindex = createRoute({
  method: "post",
  path: "/reindex",
  tags,
  summary: "Chain mode: the indexer reads the vault's events again from `fromBlock` (moves its checkpoint; admin)",
  description:
    "Sets the indexer checkpoint to block `fromBlock − 1` with its real hash (or removes it when `fromBlock` is at or " +
    "before CHAIN_START_BLOCK), using the running Worker's own chain configuration. The next Cron run re-reads from " +
    "there; a step already running does not overwrite the move. Replays apply nothing twice. 503 `chain_unconfigured` " +
    "outside chain mode; 400 when `fromBlock` is past the head.",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  request: { body: jsonBody(z.object({ fromBlock: z.number().int().min(0).openapi({ example: 1200345 }) })) },
  responses: {
    200: jsonResponse(
      z.object({
        id: z.string().openapi({ example: "8453:0x5f…" }),
        fromBlock: z.number(),
        head: z.number(),
        checkpoint: z.object({ blockNumber: z.number(), blockHash: Hex, blockTime: z.number() }).nullable(),
      }),
      "The checkpoint now",
    ),
    ...errors(400, 401, 403, 503),
  },
});

export const opsRoutes = createRouter()
  .openapi(reindex, async (c) => {
    const cfg = requireChain(c.env);
    const { fromBlock } = c.req.valid("json");
    const r = await rewindTo(c.env, cfg, fromBlock);
    return c.json({ id: `${cfg.chainId}:${cfg.vault}`, fromBlock, ...r }, 200);
  })
  .openapi(archive, async (c) => {
    const { accountId } = c.req.valid("param");
    const { cursor, limit } = c.req.valid("query");
    return c.json(await readBatches(c.env.ARCHIVE, accountId, cursor, limit), 200);
  })
  .openapi(reseal, async (c) => c.json(await resealPii(c.env, c.req.valid("json").limit), 200))
  .openapi(status, async (c) => c.json(await opsStatus(c.env), 200))
  .openapi(standing, async (c) => {
    const { userId } = c.req.valid("param");
    await knownUser(c.env, userId);
    return c.json(await standingOf(c.env, userId), 200);
  })
  .openapi(freeze, async (c) => {
    const { userId } = c.req.valid("param");
    await knownUser(c.env, userId);
    await c.env.ACCOUNT.getByName(userId).setFrozen(true, c.req.valid("json").reason);
    return c.json(await standingOf(c.env, userId), 200);
  })
  .openapi(unfreeze, async (c) => {
    const { userId } = c.req.valid("param");
    await knownUser(c.env, userId);
    await c.env.ACCOUNT.getByName(userId).setFrozen(false, c.req.valid("json").reason);
    return c.json(await standingOf(c.env, userId), 200);
  })
  .openapi(relayer, async (c) => c.json(await relayerStatus(c.env), 200))
  .openapi(summary, async (c) => c.json(await ledgerSummary(c.env), 200))
  .openapi(deadLetters, async (c) => c.json({ deadLetters: await listDeadLetters(c.env) }, 200))
  .openapi(redrive, async (c) => {
    const body = c.req.header("content-type")?.includes("application/json") ? c.req.valid("json") : {};
    return c.json({ redriven: await redriveDeadLetters(c.env, body?.ids ?? null) }, 200);
  })
  .openapi(audit, async (c) => {
    const q = c.req.valid("query");
    const cps = await listCheckpoints(c.env, q.checkpointCursor ? Number(q.checkpointCursor) : null, 20);
    let account = null;
    if (q.account) {
      const inc = await inclusion(c.env, q.account);
      const page = await c.env.ACCOUNT.getByName(q.account).auditPage(
        q.cursor ? Number(q.cursor) : 0,
        q.limit,
        inc?.leaf.seq ?? null,
      );
      const matchesChain = inc ? page.anchorHash === inc.leaf.head : false;
      const { anchorHash: _a, ...rest } = page;
      account = {
        ...rest,
        verified: page.chain.verified && (!inc || (inc.included && inc.signatureVerified && matchesChain)),
        inclusion: inc ? { ...inc, matchesChain } : null,
      };
    }
    return c.json({ checkpoints: cps.items, nextCheckpointCursor: cps.nextCursor, account }, 200);
  })
  .openapi(checkpoint, async (c) => {
    const cp = await buildCheckpoint(c.env);
    if (!cp)
      throw new ApiError(503, "audit_key_missing", "AUDIT_SIGNING_KEY is not set; checkpoints cannot be signed.");
    return c.json({ ...cp, createdAt: new Date(cp.createdAt).toISOString(), createdAtMs: cp.createdAt }, 201);
  });
