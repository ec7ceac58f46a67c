// Initial JS of the web UI: every script the built index.html loads before the
// app runs (the entry module and its modulepreloads). `/` and `/@handle` serve
// this same shell, with the profile screen inside it, so this is their initial JS.
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

export const BUDGET_GZIP_BYTES = 150 * 1024;

export function initialScripts(distDir) {
  const html = readFileSync(path.join(distDir, "index.html"), "utf8");
  const srcs = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
  const preloads = [...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1]);
  return [...new Set([...srcs, ...preloads])];
}

export function gzipSize(distDir, url) {
  return gzipSync(readFileSync(path.join(distDir, url.replace(/^\//, "")))).length;
}

/** {files: [{url, gzip}], total} for the initial JS. */
export function initialJs(distDir) {
  const files = initialScripts(distDir).map((url) => ({ url, gzip: gzipSize(distDir, url) }));
  return { files, total: files.reduce((n, f) => n + f.gzip, 0) };
}
