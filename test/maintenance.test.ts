import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { expect, it } from "vitest";
import worker from "../worker/index";
import { api, signIn } from "./helpers";

it("the cron run deletes expired challenges and refresh tokens, and keeps live ones", async () => {
  const s = await signIn();
  const live = await api("POST", "/v1/auth/siwe/challenge", { body: { address: s.account.address } });
  expect(live.status).toBe(200);
  const hourAgo = Date.now() - 2 * 3_600_000;
  await env.DB.prepare("INSERT INTO auth_challenges (id, kind, expires_at) VALUES ('old-nonce', 'siwe', ?)")
    .bind(hourAgo)
    .run();
  await env.DB.prepare(
    "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) VALUES ('old-token', 'fam_old', ?, ?)",
  )
    .bind(s.user.id, hourAgo)
    .run();

  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);

  const ids = (await env.DB.prepare("SELECT id FROM auth_challenges").all<{ id: string }>()).results.map((r) => r.id);
  expect(ids).not.toContain("old-nonce");
  expect(ids).toContain(live.body.message.match(/Nonce: (\S+)/)[1]);
  const tokens = await env.DB.prepare("SELECT token_hash FROM refresh_tokens").all<{ token_hash: string }>();
  expect(tokens.results.map((r) => r.token_hash)).not.toContain("old-token");
  expect((await api("POST", "/v1/auth/refresh", { body: { refreshToken: s.refreshToken } })).status).toBe(200);
});
