// The web UI's pages. The Worker runs first for every path except the hashed
// build output (/assets/*), so it can answer a real 404 for unknown paths and
// give `/@handle` pages their own <title>, description and Open Graph tags for
// link previews. Everything else is the single-page app's index.html.
import type { Context } from "hono";
import type { AppEnv } from "./http/router";
import { publicProfile } from "./recipients";

/** Client routes of the web UI (frontend/src/routes.tsx); anything else is a 404. */
const PAGES = [
  /^\/$/,
  /^\/signin$/,
  /^\/signed-in$/,
  /^\/onboarding$/,
  /^\/inbox(\/0x[0-9a-fA-F]{64})?$/,
  /^\/outbox$/,
  /^\/money$/,
  /^\/settings$/,
];
const PROFILE = /^\/@([A-Za-z0-9_]{1,64})$/;

async function indexHtml(c: Context<AppEnv>, status: number): Promise<Response> {
  const index = await c.env.ASSETS.fetch(new URL("/", c.req.url));
  return new Response(index.body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
  });
}

export async function serveWeb(c: Context<AppEnv>): Promise<Response> {
  const path = new URL(c.req.url).pathname;
  if (path.startsWith("/v1/") || path.startsWith("/webhooks/")) return c.notFound();
  const asset = await c.env.ASSETS.fetch(c.req.raw);
  // A fetched Response has immutable headers; middleware (security headers) adds its own.
  if (asset.status !== 404) return new Response(asset.body, asset);
  if (PAGES.some((p) => p.test(path))) return indexHtml(c, 200);
  const profile = path.match(PROFILE);
  if (profile) return profilePage(c, profile[1]);
  // Unknown: browsers get the app's 404 view (with a 404 status), anything else a plain 404.
  if ((c.req.header("accept") ?? "").includes("text/html")) return indexHtml(c, 404);
  return c.text("Not found", 404);
}

async function profilePage(c: Context<AppEnv>, handle: string): Promise<Response> {
  const profile = await publicProfile(c.env, handle);
  const page = await indexHtml(c, profile ? 200 : 404);
  if (!profile) return page;
  const name = profile.displayName ?? `@${profile.handle}`;
  const title = `Message ${name} (@${profile.handle}) · Paid Inbox`;
  const description =
    profile.bio?.slice(0, 200) || `Pay to send ${name} a message on Paid Inbox. You see the price before you pay.`;
  const url = new URL(`/@${profile.handle}`, c.req.url).toString();
  const meta: Record<string, string> = {
    'meta[name="description"]': description,
    'meta[property="og:title"]': title,
    'meta[property="og:description"]': description,
    'meta[property="og:url"]': url,
    'meta[property="og:type"]': "profile",
    'meta[name="twitter:title"]': title,
    'meta[name="twitter:description"]': description,
  };
  let rewriter = new HTMLRewriter().on("title", {
    element(e) {
      e.setInnerContent(title);
    },
  });
  for (const [selector, content] of Object.entries(meta)) {
    rewriter = rewriter.on(selector, {
      element(e) {
        e.setAttribute("content", content);
      },
    });
  }
  const out = rewriter.transform(page);
  return new Response(out.body, out);
}
