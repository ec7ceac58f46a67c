// Client ids, secrets and keys the fake providers accept, and the Worker
// bindings that point the app at them (used by vitest.config.ts and the tests).
export const FAKE = {
  google: { clientId: "fake-google-client-id", clientSecret: "fake-google-client-secret-0123456789" },
  github: { clientId: "fake-github-client-id", clientSecret: "fake-github-client-secret-0123456789" },
  twilio: { accountSid: "ACfake0123456789", authToken: "fake-twilio-auth-token-0123456789", from: "+15005550006" },
  sendgrid: { apiKey: "SG.fake-sendgrid-api-key-0123456789", from: "codes@paidinbox.test" },
} as const;

/** Worker bindings that send OAuth, SMS and email traffic to the fake provider at `url`. */
export function fakeProviderBindings(url: string): Record<string, string> {
  return {
    FAKE_PROVIDER_URL: url,
    GOOGLE_CLIENT_ID: FAKE.google.clientId,
    GOOGLE_CLIENT_SECRET: FAKE.google.clientSecret,
    GOOGLE_AUTH_URL: `${url}/google/authorize`,
    GOOGLE_TOKEN_URL: `${url}/google/token`,
    GOOGLE_USERINFO_URL: `${url}/google/userinfo`,
    GITHUB_CLIENT_ID: FAKE.github.clientId,
    GITHUB_CLIENT_SECRET: FAKE.github.clientSecret,
    GITHUB_AUTH_URL: `${url}/github/login/oauth/authorize`,
    GITHUB_TOKEN_URL: `${url}/github/login/oauth/access_token`,
    GITHUB_USER_URL: `${url}/github/user`,
    TWILIO_BASE_URL: `${url}/twilio`,
    TWILIO_ACCOUNT_SID: FAKE.twilio.accountSid,
    TWILIO_AUTH_TOKEN: FAKE.twilio.authToken,
    TWILIO_FROM: FAKE.twilio.from,
    SENDGRID_BASE_URL: `${url}/sendgrid`,
    SENDGRID_API_KEY: FAKE.sendgrid.apiKey,
    EMAIL_FROM: FAKE.sendgrid.from,
  };
}
