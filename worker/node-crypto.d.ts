// The one node:crypto function the Worker uses (nodejs_compat; workerd implements
// it natively). Declared here because the project does not load @types/node.
declare module "node:crypto" {
  /** One-shot digest (Node ≥ 20.12, workerd): no Hash object, about half the cost of createHash per call. */
  export function hash(algorithm: "sha256", data: string, outputEncoding: "hex"): string;
}
