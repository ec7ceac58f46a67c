// Creates .dev.vars from .dev.vars.example, replacing every `generate` value with
// fresh random bytes. Leaves an existing .dev.vars alone.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export function ensureDevVars(path = ".dev.vars") {
  if (existsSync(path)) return false;
  const text = readFileSync(".dev.vars.example", "utf8").replace(
    /^([A-Z_]+)=generate$/gm,
    (_, name) => `${name}=${randomBytes(32).toString("base64")}`,
  );
  writeFileSync(path, text, { mode: 0o600 });
  return true;
}
