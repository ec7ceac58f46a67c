// SIWE with a smart-account (ERC-1271) wallet: the signature does not recover to
// the wallet's address, so the Worker asks the chain — a real anvil here.
import { env } from "cloudflare:test";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, inject, it } from "vitest";
import app from "../worker/app";

const wallet = inject("contractWallet");
const owner = privateKeyToAccount(wallet.ownerKey);

/** The app with CHAIN_RPC_URL set (or not), through its real fetch handler. */
function call(rpc: string, path: string, body: unknown) {
  const bindings = { ...env, CHAIN_RPC_URL: rpc } as Env;
  return app.request(
    `http://127.0.0.1:8787${path}`,
    { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
    bindings,
  );
}

async function signIn(rpc: string, signer = owner) {
  const challenge = await call(rpc, "/v1/auth/siwe/challenge", { address: wallet.address });
  expect(challenge.status).toBe(200);
  const { message } = (await challenge.json()) as { message: string };
  const signature = await signer.signMessage({ message });
  return call(rpc, "/v1/auth/siwe/verify", { message, signature });
}

describe("SIWE with an ERC-1271 smart account", () => {
  it("signs in the contract wallet when an RPC is configured", async () => {
    const res = await signIn(inject("anvilUrl"));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: { walletAddress: string } };
    expect(body.user.walletAddress.toLowerCase()).toBe(wallet.address.toLowerCase());
  });

  it("refuses a signature the wallet does not accept", async () => {
    const stranger = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
    expect((await signIn(inject("anvilUrl"), stranger)).status).toBe(401);
  });

  it("refuses smart-account signatures when no RPC is configured (EOA-only, offline)", async () => {
    expect((await signIn("")).status).toBe(401);
  });
});
