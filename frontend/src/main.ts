// Landing page: shows whether the API is up and in which ledger mode.
const status = document.querySelector<HTMLParagraphElement>("#status");

fetch("/health")
  .then((r) => r.json() as Promise<{ ok: boolean; version: string; mode: string }>)
  .then((h) => {
    if (status) status.textContent = `API v${h.version} is up (${h.mode} ledger).`;
  })
  .catch(() => {
    if (status) status.textContent = "The API is not reachable.";
  });
