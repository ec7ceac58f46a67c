// One error shape for every non-2xx answer: {error, message, ...details}.
import type { ContentfulStatusCode } from "hono/utils/http-status";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  body() {
    return { ...this.details, error: this.code, message: this.message };
  }
}

export const unauthorized = (message = "Missing or invalid access token.") =>
  new ApiError(401, "unauthorized", message);

export const notFound = (code = "not_found", message = "Not found.") => new ApiError(404, code, message);
