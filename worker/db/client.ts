import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof db>;

export function db(env: Env) {
  return drizzle(env.DB, { schema });
}

/** D1 reports constraint violations as plain errors; match on SQLite's text. */
export function isUniqueViolation(err: unknown, column?: string): boolean {
  const text = String((err as { cause?: unknown })?.cause ?? "") + String((err as Error)?.message ?? "");
  return text.includes("UNIQUE constraint failed") && (!column || text.includes(column));
}
