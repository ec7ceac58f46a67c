// The one API client: openapi-fetch typed by the app's own OpenAPI document.
// It adds the in-memory access token, refreshes once on a 401 and retries, and
// turns every failure (including "offline") into an ApiError.
import createClient from "openapi-fetch";
import { getAccessToken, refresh } from "../auth/session";
import { ApiError } from "./errors";
import type { paths } from "./types";

function withToken(req: Request): Request {
  const token = getAccessToken();
  if (token) req.headers.set("authorization", `Bearer ${token}`);
  return req;
}

async function authedFetch(input: Request): Promise<Response> {
  const retry = input.clone();
  const hadToken = getAccessToken() !== null;
  let res: Response;
  try {
    res = await fetch(withToken(input));
    // An expired access token: refresh silently from the cookie and try once more.
    if (res.status === 401 && hadToken && (await refresh())) res = await fetch(withToken(retry));
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, "offline", "The API could not be reached.");
  }
  return res;
}

export const api = createClient<paths>({ baseUrl: "", fetch: authedFetch });

type Result<T> = { data?: T; error?: unknown; response: Response };

/** Awaits an openapi-fetch call: its data, or an ApiError with the server's code. */
export async function call<T>(p: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await p;
  if (response.ok) return data as T;
  const body = (error ?? {}) as { error?: string; message?: string } & Record<string, unknown>;
  throw new ApiError(
    response.status,
    body.error ?? `http_${response.status}`,
    body.message ?? response.statusText,
    body,
  );
}

/** A fresh Idempotency-Key (one per draft: retries and double clicks reuse it). */
export const newIdempotencyKey = () => crypto.randomUUID();
