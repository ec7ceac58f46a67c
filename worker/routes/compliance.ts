import { createRoute, z } from "@hono/zod-openapi";
import { bearerAuth, createRouter, errors, jsonResponse } from "../http/router";
import { requireAdmin } from "../middleware/auth";
import { launchReadiness } from "../ops/readiness";

const readiness = createRoute({
  method: "get",
  path: "/launch-readiness",
  tags: ["Operations"],
  summary: "Launch readiness: named checks, each pass | warn | fail with a reason (admin)",
  description:
    "Any `fail` makes `ready` false. Answers even when the Worker's configuration is incomplete (e.g. no APP_ORIGIN in " +
    "production), so the checks can say what is missing. `npm run ops -- readiness` exits 1 when not ready.",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  responses: {
    200: jsonResponse(
      z
        .object({
          ready: z.boolean(),
          summary: z.object({ pass: z.number(), warn: z.number(), fail: z.number() }),
          checks: z.array(
            z.object({
              name: z.string().openapi({ example: "otp_provider" }),
              status: z.enum(["pass", "warn", "fail"]),
              reason: z.string().openapi({ example: "OTP_PROVIDER is dev: codes go to a local outbox" }),
            }),
          ),
        })
        .openapi("LaunchReadiness"),
      "Checks",
    ),
    ...errors(401, 403),
  },
});

export const complianceRoutes = createRouter().openapi(readiness, async (c) =>
  c.json(await launchReadiness(c.env), 200),
);
