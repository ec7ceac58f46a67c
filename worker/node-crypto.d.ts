// The one node:crypto function the Worker uses (nodejs_compat; workerd implements
// it natively). Declared here because the project does not load @types/node.
declare module "node:crypto" {
  interface Hash {
    update(data: string): Hash;
    digest(encoding: "hex"): string;
  }
  export function createHash(algorithm: "sha256"): Hash;
}
