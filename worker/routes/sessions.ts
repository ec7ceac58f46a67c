// Your sessions (mounted at /v1/me): where you are signed in, and revoking one.
// A session is a refresh-token family (auth/sessions.ts); its id is the family
// id, never a token value.
import { createRoute, z } from "@hono/zod-openapi";
import { listSessions, revokeSession } from "../auth/sessions";
import { notFound } from "../http/errors";
import { bearerAuth, createRouter, errors, jsonResponse } from "../http/router";
import { requireUser } from "../middleware/auth";

const tag = ["Me"];
const iso = (ms: number) => new Date(ms).toISOString();

const Session = z
  .object({
    id: z.string(),
    device: z
      .string()
      .nullable()
      .openapi({ description: 'what signed in, e.g. "Chrome on macOS" or "curl/8.5.0"; null if unknown' }),
    createdAt: z.string().openapi({ description: "when this session signed in" }),
    lastUsedAt: z.string().openapi({ description: "when it last signed in or refreshed its access token" }),
    current: z.boolean().openapi({ description: "the session of the access token making this request" }),
  })
  .openapi("DeviceSession");

const listRoute = createRoute({
  method: "get",
  path: "/sessions",
  tags: tag,
  summary: "Where you are signed in: your live sessions, most recently used first",
  security: bearerAuth,
  middleware: [requireUser] as const,
  responses: { 200: jsonResponse(z.object({ sessions: z.array(Session) }), "Sessions"), ...errors(401) },
});

const revokeRoute = createRoute({
  method: "delete",
  path: "/sessions/{id}",
  tags: tag,
  summary: "Sign one session out: its refresh token stops working at once",
  description:
    "Its current access token still works until it expires (`ACCESS_TOKEN_TTL_SECONDS`); it can no longer be refreshed.",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: z.object({ id: z.string().min(1).max(100) }) },
  responses: { 204: { description: "Signed out" }, ...errors(401, 404) },
});

export const sessionRoutes = createRouter()
  .openapi(listRoute, async (c) => {
    const sessions = await listSessions(c.env, c.var.userId);
    return c.json(
      {
        sessions: sessions.map((s) => ({
          id: s.id,
          device: s.device,
          createdAt: iso(s.createdAt),
          lastUsedAt: iso(s.lastUsedAt),
          current: s.id === c.var.sessionId,
        })),
      },
      200,
    );
  })
  .openapi(revokeRoute, async (c) => {
    const ok = await revokeSession(c.env, c.var.userId, c.req.valid("param").id);
    if (!ok) throw notFound("session_not_found", "No such session is signed in on your account.");
    return c.body(null, 204);
  });
