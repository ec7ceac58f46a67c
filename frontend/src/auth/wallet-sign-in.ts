// Sign in with Ethereum (EIP-4361) through an EIP-1193 wallet, with viem.
// Loaded on demand: viem stays out of the initial bundle.
import { createWalletClient, custom, getAddress } from "viem";
import { parseSiweMessage } from "viem/siwe";
import { api, call } from "../api/client";
import { COOKIE_SESSION, signedIn } from "./session";
import type { Eip1193Provider } from "./wallets";

export async function signInWithWallet(provider: Eip1193Provider) {
  const wallet = createWalletClient({ transport: custom(provider) });
  const [address] = await wallet.requestAddresses();
  if (!address) throw new Error("The wallet shared no account.");
  const { message } = await call(api.POST("/v1/auth/siwe/challenge", { body: { address } }));
  // Never sign a message for another site or another account.
  const parsed = parseSiweMessage(message);
  if (parsed.domain !== location.host || !parsed.address || getAddress(parsed.address) !== getAddress(address)) {
    throw new Error("The sign-in message does not match this site; nothing was signed.");
  }
  const signature = await wallet.signMessage({ account: address, message });
  const session = await call(
    api.POST("/v1/auth/siwe/verify", { body: { message, signature }, headers: COOKIE_SESSION }),
  );
  signedIn(session);
  return session.user;
}
