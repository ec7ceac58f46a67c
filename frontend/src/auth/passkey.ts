// Passkeys through @simplewebauthn/browser; the server's options and answers are
// SimpleWebAuthn's JSON shapes.
import { startAuthentication, startRegistration } from "@simplewebauthn/browser";
import { api, call } from "../api/client";
import { COOKIE_SESSION, signedIn } from "./session";

type CreationJSON = Parameters<typeof startRegistration>[0]["optionsJSON"];
type RequestJSON = Parameters<typeof startAuthentication>[0]["optionsJSON"];

export async function signInWithPasskey() {
  const options = await call(api.POST("/v1/auth/passkey/login/options"));
  const response = await startAuthentication({ optionsJSON: options as unknown as RequestJSON });
  const session = await call(
    api.POST("/v1/auth/passkey/login/verify", {
      body: response as never,
      headers: COOKIE_SESSION,
    }),
  );
  signedIn(session);
  return session.user;
}

/**
 * A new account with a passkey, or (signed in) another passkey for this account.
 * Either way the answer is a cookie session, so no refresh token reaches page script.
 */
export async function registerPasskey() {
  const options = await call(api.POST("/v1/auth/passkey/register/options"));
  const response = await startRegistration({ optionsJSON: options as unknown as CreationJSON });
  const session = await call(
    api.POST("/v1/auth/passkey/register/verify", {
      body: response as never,
      headers: COOKIE_SESSION,
    }),
  );
  signedIn(session);
  return session.user;
}
