// Types for scripts/ops/_wrangler.mjs (imported by test/ops-wrangler.test.ts).
export interface OpsTarget {
  remote: boolean;
  env: string | null;
  persistTo: string | null;
}
export function parseTarget(argv: string[]): { target: OpsTarget; args: string[] };
export function targetFlags(target: OpsTarget): string[];
export function d1ExecuteArgs(target: OpsTarget, sql: string): string[];
