// Creates .dev.vars from .dev.vars.example, replacing every `generate` value with
// fresh random bytes. An existing .dev.vars keeps its values; secrets added to
// the example since it was made are appended (freshly generated), so an older
// checkout keeps working after a pull.
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

const generated = (name) => `${name}=${randomBytes(32).toString("base64")}`;

export function ensureDevVars(path = ".dev.vars") {
  const example = readFileSync(".dev.vars.example", "utf8");
  if (existsSync(path)) {
    const have = new Set([...readFileSync(path, "utf8").matchAll(/^\s*([A-Z0-9_]+)\s*=/gm)].map((m) => m[1]));
    const missing = [...example.matchAll(/^([A-Z0-9_]+)=generate$/gm)].map((m) => m[1]).filter((n) => !have.has(n));
    if (missing.length) appendFileSync(path, `\n${missing.map(generated).join("\n")}\n`);
    return false;
  }
  writeFileSync(
    path,
    example.replace(/^([A-Z0-9_]+)=generate$/gm, (_, name) => generated(name)),
    { mode: 0o600 },
  );
  return true;
}
