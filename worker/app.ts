// The Hono app: global middleware, one error shape, routes per resource,
// the OpenAPI document and the readable reference.

import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { config } from "./config";
import { docsPage } from "./http/docs";
import { ApiError } from "./http/errors";
import { createRouter } from "./http/router";
import { securityHeaders } from "./http/security-headers";
import { observe } from "./middleware/observe";
import { log } from "./observability/log";
import { authRoutes } from "./routes/auth";
import { channelRoutes } from "./routes/channels";
import { codeSignInRoutes } from "./routes/code-sign-in";
import { complianceRoutes } from "./routes/compliance";
import { devRoutes } from "./routes/dev";
import { healthRoutes } from "./routes/health";
import { meRoutes } from "./routes/me";
import { messageRoutes } from "./routes/messages";
import { oauthRoutes } from "./routes/oauth";
import { opsRoutes } from "./routes/ops";
import { passkeyRoutes } from "./routes/passkeys";
import { paymentRoutes } from "./routes/payments";
import { recipientRoutes } from "./routes/recipients";
import { sessionRoutes } from "./routes/sessions";
import { signInMethodRoutes } from "./routes/sign-in-methods";
import { verifyRoutes } from "./routes/verify";
import { walletRoutes } from "./routes/wallet";
import { webhookRoutes } from "./routes/webhooks";

import { VERSION } from "./version";
import { serveWeb } from "./web";

const app = createRouter();

app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
});

// First, so every answer (errors and 404s included) carries them.
app.use("*", securityHeaders);

// Request id, one structured access-log line and a metric per request.
app.use("*", observe);

// Refuse every request while a required secret is missing (config() throws 503) —
// except launch readiness (admin only), whose job is to say what is missing.
const READINESS_PATH = "/v1/compliance/launch-readiness";
app.use("*", async (c, next) => {
  if (c.req.path !== READINESS_PATH) config(c.env);
  await next();
});

app.use("*", async (c, next) =>
  bodyLimit({
    maxSize: c.req.path === READINESS_PATH ? 0 : config(c.env).bodyLimitBytes,
    onError: () => {
      throw new ApiError(
        413,
        "payload_too_large",
        `Request body is larger than ${config(c.env).bodyLimitBytes} bytes.`,
      );
    },
  })(c, next),
);

const routes = app
  .route("/", healthRoutes)
  .route("/v1/auth", authRoutes)
  .route("/v1/auth/passkey", passkeyRoutes)
  .route("/v1/auth/oauth", oauthRoutes)
  .route("/v1/auth/code", codeSignInRoutes)
  .route("/v1/verify", verifyRoutes)
  .route("/v1/dev", devRoutes)
  .route("/v1/me", meRoutes)
  .route("/v1/me", walletRoutes)
  .route("/v1/me", signInMethodRoutes)
  .route("/v1/me", sessionRoutes)
  .route("/v1", recipientRoutes)
  .route("/v1", messageRoutes)
  .route("/v1/payments", paymentRoutes)
  .route("/v1/ops", opsRoutes)
  .route("/v1/compliance", complianceRoutes)
  .route("/v1/channels", channelRoutes)
  .route("/webhooks", webhookRoutes);

app.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "Paid Inbox API",
    version: VERSION,
    description: "People put a price on being contacted; senders pay per message in USDC.",
  },
});

// Scalar's reference over /openapi.json, bundle served locally, under a CSP (worker/http/docs.ts).
app.get("/docs", docsPage);

// The web UI (after every API route): pages, assets and the 404 view.
app.get("*", serveWeb);

app.notFound((c) => c.json({ error: "not_found", message: `No route for ${c.req.method} ${c.req.path}.` }, 404));

app.onError((err, c) => {
  if (err instanceof ApiError) {
    c.set("errorCode", err.code);
    for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
    return c.json(err.body(), err.status);
  }
  if (err instanceof HTTPException) {
    if (err.status === 400 && /JSON/i.test(err.message)) {
      return c.json({ error: "invalid_json", message: "Request body is not valid JSON." }, 400);
    }
    return c.json({ error: err.status === 413 ? "payload_too_large" : "http_error", message: err.message }, err.status);
  }
  // Unknown: log the error name only (messages of lower layers may quote input), answer a generic 500.
  c.set("errorCode", "internal_error");
  log("error", "unhandled error", { method: c.req.method, route: c.req.routePath, error: (err as Error).name });
  return c.json({ error: "internal_error", message: "Something went wrong on our side." }, 500);
});

export type AppType = typeof routes;
export default app;
