// Types of the API, from the generated schema (scripts/api-types.mjs).
import type { components, paths } from "./schema";

export type { paths };
export type Schemas = components["schemas"];
export type Me = paths["/v1/me"]["get"]["responses"][200]["content"]["application/json"];
export type Recipient = Schemas["Recipient"];
export type Quote = NonNullable<Recipient["quote"]>;
export type Pricing = Schemas["Pricing"];
export type InboxMessage = Schemas["InboxMessage"];
export type OutboxMessage = Schemas["OutboxMessage"];
export type SendReceipt = Schemas["SendReceipt"];
export type LedgerEntry =
  paths["/v1/payments/ledger"]["get"]["responses"][200]["content"]["application/json"]["entries"][number];
