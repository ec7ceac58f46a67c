// Input rules (issue #11): control and bidi-override characters in names and
// bios, NUL in email targets, lone surrogates in message bodies, prices beyond
// what the contracts hold. Each is a 400 with a code, never stored.
import { describe, expect, it } from "vitest";
import { api, signUp } from "./helpers";
import { apiWith, uniqueIp } from "./identity-helpers";
import { funded } from "./send-helpers";

const UINT96_MAX = 2n ** 96n - 1n;

describe("profile text", () => {
  it("refuses control and bidi-override characters in display names and bios", async () => {
    const s = await signUp("texty");
    for (const displayName of ["a\u0000b", "ding\u0007", "\u202egnp.exe", "x\u2066y", "tab\there", "line\nbreak"]) {
      const res = await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { displayName } });
      expect(res.status, JSON.stringify(displayName)).toBe(400);
      expect(res.body.error).toBe("invalid_request");
    }
    for (const bio of ["a\u0000b", "\u202eevil", "bell\u0007", "\ud800"]) {
      const res = await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { bio } });
      expect(res.status, JSON.stringify(bio)).toBe(400);
    }
    // Ordinary text, including other scripts, emoji and newlines in a bio, is fine.
    const ok = await api("PUT", "/v1/me/profile", {
      token: s.accessToken,
      body: { displayName: "Zoë 李 🙂 عربي", bio: "line one\nline two\twith a tab" },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.user.displayName).toBe("Zoë 李 🙂 عربي");
  });
});

describe("verification targets", () => {
  it("refuses NUL and other controls in an email target", async () => {
    const s = await signUp("nul");
    for (const target of ["a\u0000@example.com", "a@exa\u0000mple.com", "a\u0007@example.com"]) {
      const res = await api("POST", "/v1/verify/request", {
        token: s.accessToken,
        body: { channel: "email", target },
        headers: { "cf-connecting-ip": uniqueIp() },
      });
      expect(res.status, JSON.stringify(target)).toBe(400);
    }
  });
});

describe("message bodies", () => {
  it("require well-formed Unicode (no lone surrogates)", async () => {
    const alice = await funded("10000000", "sur");
    const bob = await funded("0", "surb");
    for (const body of ['"\\ud800"', '"a\\udc00b"', '"\\ud83d"']) {
      const res = await api("POST", "/v1/messages", {
        token: alice.accessToken,
        raw: `{"to":"${bob.handle}","body":${body}}`,
      });
      expect(res.status, body).toBe(400);
      expect(res.body.error).toBe("invalid_request");
    }
    const ok = await api("POST", "/v1/messages", {
      token: alice.accessToken,
      raw: `{"to":"${bob.handle}","body":"\\ud83d\\ude42 paired"}`,
    });
    expect(ok.status).toBe(201);
  });
});

describe("prices", () => {
  const pricing = (price: string) => ({
    defaultPrice: price,
    firstContactPrice: "1000000",
    returnDiscountBps: 0,
    settlement: "instant",
  });

  it("are capped at what the contracts hold (uint96), and at MAX_PRICE when lower", async () => {
    const s = await signUp("pricey");
    for (const price of [`${2n ** 256n - 1n}`, `${UINT96_MAX + 1n}`]) {
      const res = await api("PUT", "/v1/me/pricing", { token: s.accessToken, body: pricing(price) });
      expect(res.status).toBe(400);
      expect(res.body.issues[0].path).toBe("defaultPrice");
    }
    const max = await api("PUT", "/v1/me/pricing", { token: s.accessToken, body: pricing(`${UINT96_MAX}`) });
    expect(max.status).toBe(200);
    expect(max.body.pricing.defaultPrice).toBe(`${UINT96_MAX}`);
    const low = { MAX_PRICE: "5000000" };
    expect(
      (await apiWith(low, "PUT", "/v1/me/pricing", { token: s.accessToken, body: pricing("5000001") })).status,
    ).toBe(400);
    expect(
      (await apiWith(low, "PUT", "/v1/me/pricing", { token: s.accessToken, body: pricing("5000000") })).status,
    ).toBe(200);
  });
});
