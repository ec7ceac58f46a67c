// Hot recipients: one Account serialises one user, so a viral /@handle page must
// not send its views there. Page views are counted at the Worker's Account
// binding: the app runs with an env whose ACCOUNT records every call to the
// recipient's Account.
import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import app from "../worker/app";
import { ORIGIN } from "./helpers";
import { funded, send, setPricing, totals, type User } from "./send-helpers";

const INDEX_HTML =
  '<!doctype html><html><head><title>Paid Inbox</title><meta name="description" content="" />' +
  '<meta property="og:title" content="Paid Inbox" /></head><body></body></html>';

/** The app with an Account binding that records each call made to `watchedId`'s Account. */
function countingApp(watchedId: string) {
  const calls: string[] = [];
  const ACCOUNT = new Proxy(env.ACCOUNT, {
    get(target, prop) {
      if (prop === "getByName") {
        return (name: string) => {
          const stub = target.getByName(name);
          if (name !== watchedId) return stub;
          return new Proxy(stub, {
            get(s, p) {
              // Not thenable (an RPC stub answers every name, "then" included).
              if (p === "then" || typeof p === "symbol") return undefined;
              const v = Reflect.get(s, p);
              if (typeof v !== "function") return v;
              return (...args: unknown[]) => {
                calls.push(String(p));
                return (s as unknown as Record<string, (...a: unknown[]) => unknown>)[p](...args);
              };
            },
          });
        };
      }
      if (prop === "get" || prop === "idFromName") throw new Error("use getByName");
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  // Static assets are not served in the pool: a stand-in index.html for the /@handle page.
  const ASSETS = {
    fetch: async (req: Request | URL | string) =>
      new URL(req instanceof Request ? req.url : req).pathname === "/"
        ? new Response(INDEX_HTML, { headers: { "content-type": "text/html" } })
        : new Response("not found", { status: 404 }),
  };
  const wrapped = Object.assign(Object.create(null), env, { ACCOUNT, ASSETS }) as Env;
  async function request(path: string, init: { token?: string; ip?: string; html?: boolean }) {
    const headers: Record<string, string> = {};
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.ip) headers["cf-connecting-ip"] = init.ip;
    if (init.html) headers.accept = "text/html";
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`${ORIGIN}${path}`, { headers }), wrapped, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }
  async function view(path: string, init: { token?: string; ip?: string } = {}) {
    const res = await request(path, init);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }
  /** The server-rendered /@handle page (title and Open Graph tags for link previews). */
  async function page(handle: string, init: { token?: string; ip?: string } = {}) {
    const res = await request(`/@${handle}`, { ...init, html: true });
    return { status: res.status, html: await res.text() };
  }
  return { calls, view, page };
}

async function pageViews(
  view: ReturnType<typeof countingApp>["view"],
  path: string,
  viewers: User[],
  n: number,
  check: (r: { status: number; body: Record<string, any> }, viewer: User | null) => void,
) {
  for (let i = 0; i < n; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, async (_, j) => {
        const k = i + j;
        // Nine in ten views are anonymous, from many addresses; the rest are signed-in viewers.
        const viewer = k % 10 === 0 ? viewers[(k / 10) % viewers.length] : null;
        const r = await view(path, viewer ? { token: viewer.accessToken } : { ip: `198.51.100.${k % 20}` });
        check(r, viewer);
      }),
    );
  }
}

describe("a viral /@handle", () => {
  it("1,000 profile lookups and 1,000 /@handle pages make no call to the recipient's Account", {
    timeout: 120_000,
  }, async () => {
    const star = await funded("0", "star");
    await setPricing(star, { defaultPrice: "3000000", firstContactPrice: "7000000" });
    const viewers = await Promise.all([1, 2, 3, 4, 5].map(() => funded("100000000", "fan")));
    // One fan has written before: their quote is the default price, not first contact.
    expect((await send(viewers[0], star)).status).toBe(201);

    const { calls, view, page } = countingApp(star.user.id);
    await pageViews(view, `/v1/recipients/@${star.handle}`, viewers, 1000, (r, viewer) => {
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: star.user.id, handle: star.handle, pricing: { defaultPrice: "3000000" } });
      if (!viewer) expect(r.body.quote).toBeUndefined();
      else expect(r.body.quote.price).toBe(viewer === viewers[0] ? "3000000" : "7000000");
    });
    expect(calls).toEqual([]);

    // The server-rendered page itself (link previews) reads the same cached profile.
    for (let i = 0; i < 1000; i += 50) {
      const pages = await Promise.all(
        Array.from({ length: 50 }, (_, j) => page(star.handle, { ip: `203.0.113.${(i + j) % 20}` })),
      );
      for (const p of pages) {
        expect(p.status).toBe(200);
        expect(p.html).toContain(
          `<meta property="og:title" content="Message @${star.handle} (@${star.handle}) · Paid Inbox"`,
        );
      }
    }
    expect((await page("nobody_here_at_all")).status).toBe(404);
    expect(calls).toEqual([]);
  });

  it("a profile from before the D1 copy asks its Account once, then never again", { timeout: 120_000 }, async () => {
    const star = await funded("0", "olds");
    await setPricing(star, { defaultPrice: "4000000" });
    // As if the price had been set before the copy existed.
    await env.DB.prepare("UPDATE users SET pricing = NULL, pricing_version = NULL WHERE id = ?")
      .bind(star.user.id)
      .run();
    const viewers = [await funded("1000000", "oldf")];
    const { calls, view } = countingApp(star.user.id);
    await pageViews(view, `/v1/recipients/@${star.handle}`, viewers, 1000, (r) => {
      expect(r.status).toBe(200);
      expect(r.body.pricing.defaultPrice).toBe("4000000");
    });
    expect(calls).toEqual(["quoteFor"]);
    // By id too: the D1 copy is there now, nothing more reaches the Account.
    await pageViews(view, `/v1/recipients/${star.user.id}`, viewers, 100, (r) => expect(r.status).toBe(200));
    expect(calls).toEqual(["quoteFor"]);
  });

  it("a new price or handle shows on the next view", async () => {
    const star = await funded("0", "chg");
    const fan = await funded("1000000", "chgf");
    const { view } = countingApp(star.user.id);
    expect((await view(`/v1/recipients/@${star.handle}`)).body.pricing.defaultPrice).toBe("1000000");
    expect((await view(`/v1/recipients/${star.user.id}`)).body.pricing.defaultPrice).toBe("1000000");
    await setPricing(star, { defaultPrice: "2500000", firstContactPrice: "2600000" });
    expect((await view(`/v1/recipients/@${star.handle}`)).body.pricing.defaultPrice).toBe("2500000");
    expect((await view(`/v1/recipients/${star.user.id}`)).body.pricing.defaultPrice).toBe("2500000");
    expect((await view(`/v1/recipients/@${star.handle}`, { token: fan.accessToken })).body.quote.price).toBe("2600000");

    const renamed = `${star.handle.slice(0, 24)}_new`;
    const res = await app.fetch(
      new Request(`${ORIGIN}/v1/me/profile`, {
        method: "PUT",
        headers: { authorization: `Bearer ${star.accessToken}`, "content-type": "application/json" },
        body: JSON.stringify({ handle: renamed }),
      }),
      env,
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
    expect((await view(`/v1/recipients/@${star.handle}`)).status).toBe(404);
    expect((await view(`/v1/recipients/@${renamed}`)).body).toMatchObject({ id: star.user.id, handle: renamed });
    expect((await view(`/v1/recipients/${star.user.id}`)).body.handle).toBe(renamed);
  });

  it("above the recipient's capacity, sends get 429 and nothing is charged", { timeout: 60_000 }, async () => {
    const star = await funded("0", "cap");
    const fans = await Promise.all(Array.from({ length: 12 }, () => funded("5000000", "capf")));
    await runInDurableObject(env.ACCOUNT.getByName(star.user.id), (instance: Account) => {
      // Drain the receive bucket far below empty (development limits refill fast).
      (instance as unknown as { s: { receiveBucket: unknown } }).s.receiveBucket = {
        tokens: -1_000_000,
        at: Date.now(),
      };
    });
    const results = await Promise.all(fans.map((f) => send(f, star, "let me in")));
    for (const r of results) {
      expect(r.status).toBe(429);
      expect(r.body.error).toBe("rate_limited");
    }
    for (const f of fans) expect(await totals(f)).toMatchObject({ balance: "5000000", held: "0" });
    expect(await totals(star)).toMatchObject({ balance: "0", held: "0", fees: "0" });
  });
});
