// A readable API reference rendered on the server from the OpenAPI document,
// so /docs works offline (no CDN-hosted viewer).
type Doc = {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
};
type Operation = {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
};

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch);

export function renderDocs(doc: Doc): string {
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags?.[0] ?? "Other";
      const body = op.requestBody?.content?.["application/json"]?.schema;
      const statuses = Object.entries(op.responses ?? {})
        .map(([code, r]) => `<code>${esc(code)}</code> ${esc(r.description ?? "")}`)
        .join(" · ");
      const row = `<section class="op">
  <h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code>${op.security?.length ? ' <span class="lock">auth</span>' : ""}</h3>
  <p>${esc(op.summary ?? "")}</p>
  ${body ? `<details><summary>Request body</summary><pre>${esc(JSON.stringify(body, null, 2))}</pre></details>` : ""}
  <p class="resp">${statuses}</p>
</section>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), row]);
    }
  }
  const sections = [...byTag].map(([tag, rows]) => `<h2 id="${esc(tag)}">${esc(tag)}</h2>\n${rows.join("\n")}`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(doc.info.title)} — API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:920px;margin:2rem auto;padding:0 1rem;color:#1b1b1f}
h2{border-bottom:1px solid #ddd;padding-bottom:.3rem;margin-top:2rem}
.op{margin:1rem 0;padding:.5rem 1rem;border:1px solid #e4e4e7;border-radius:8px}
.op h3{margin:.3rem 0;font-size:1rem}.m{font-size:.75rem;padding:.1rem .4rem;border-radius:4px;color:#fff;background:#555}
.get{background:#2563eb}.post{background:#16a34a}.put{background:#ca8a04}.delete{background:#dc2626}
.lock{font-size:.7rem;color:#6b21a8;border:1px solid #6b21a8;border-radius:4px;padding:0 .3rem}
pre{background:#f4f4f5;padding:.6rem;overflow:auto;font-size:.8rem}.resp{color:#555;font-size:.85rem}
</style></head><body>
<h1>${esc(doc.info.title)} <small>v${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description ?? "")} Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
${sections.join("\n")}
</body></html>`;
}
