// Router factory and schema helpers shared by every route file. Routes are
// declared with @hono/zod-openapi so the same definitions validate requests and
// generate GET /openapi.json.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { ApiError } from "./errors";

export type AppEnv = {
  Bindings: Env;
  /** errorCode: the `error` of a non-2xx answer, for the access log (set by app.onError). */
  Variables: { userId: string; sessionId?: string | null; errorCode?: string };
};

export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message, code: i.code }));
        throw new ApiError(400, "invalid_request", describeIssues(issues), { issues });
      }
    },
  });
}

function describeIssues(issues: { path: string; message: string }[]): string {
  const first = issues[0];
  if (!first) return "Invalid request.";
  return first.path ? `${first.path}: ${first.message}` : first.message;
}

export const ErrorSchema = z
  .object({
    error: z.string().openapi({ example: "invalid_request" }),
    message: z.string(),
  })
  .passthrough()
  .openapi("Error");

/** An application/json request body. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { content: { "application/json": { schema } }, required: true, description };
}

/** An application/json response. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

/** Error responses a route documents, by status. */
export function errors(...statuses: number[]) {
  const out: Record<number, { content: { "application/json": { schema: typeof ErrorSchema } }; description: string }> =
    {};
  for (const s of statuses) out[s] = { content: { "application/json": { schema: ErrorSchema } }, description: "Error" };
  return out;
}

export const bearerAuth = [{ bearerAuth: [] }];

/** USDC base units: plain ASCII digits, at most a uint256. */
export const Amount = z
  .string()
  .regex(/^(0|[1-9]\d{0,77})$/, "must be a decimal string of base units")
  .refine((s) => !/^\d+$/.test(s) || BigInt(s) < 2n ** 256n, "must fit in a uint256")
  .openapi({ example: "2500000", description: "USDC base units (6 decimals) as a decimal string" });
