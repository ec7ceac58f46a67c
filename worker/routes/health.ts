import { createRoute, z } from "@hono/zod-openapi";
import { config } from "../config";
import { createRouter, jsonResponse } from "../http/router";
import { VERSION } from "../version";

const health = createRoute({
  method: "get",
  path: "/health",
  tags: ["Operations"],
  summary: "Liveness",
  responses: {
    200: jsonResponse(
      z.object({ ok: z.literal(true), version: z.string(), mode: z.enum(["simulated", "chain"]) }),
      "Up",
    ),
  },
});

export const healthRoutes = createRouter().openapi(health, (c) =>
  c.json({ ok: true as const, version: VERSION, mode: config(c.env).ledgerMode }, 200),
);
