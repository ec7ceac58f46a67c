// Client ids, secrets and keys the fake providers accept, and the Worker
// bindings that point the app at them (used by vitest.config.ts and the tests).
export const FAKE = {
  google: { clientId: "fake-google-client-id", clientSecret: "fake-google-client-secret-0123456789" },
  github: { clientId: "fake-github-client-id", clientSecret: "fake-github-client-secret-0123456789" },
  twilio: { accountSid: "ACfake0123456789", authToken: "fake-twilio-auth-token-0123456789", from: "+15005550006" },
  sendgrid: { apiKey: "SG.fake-sendgrid-api-key-0123456789", from: "codes@paidinbox.test" },
  telegram: {
    token: "123456:fake-telegram-bot-token",
    botUsername: "PaidInboxTestBot",
    webhookSecret: "fake-tg-secret-0123456789",
  },
  whatsapp: {
    token: "fake-whatsapp-token-0123456789",
    phoneNumberId: "1098765432",
    appSecret: "fake-meta-app-secret-0123456789",
    verifyToken: "fake-wa-verify-token-0123456789",
  },
  x: {
    clientId: "fake-x-client-id",
    clientSecret: "fake-x-client-secret-0123456789",
    botToken: "fake-x-bot-token-0123456789",
    consumerSecret: "fake-x-consumer-secret-0123456789",
  },
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
    TELEGRAM_API_URL: `${url}/telegram`,
    TELEGRAM_BOT_TOKEN: FAKE.telegram.token,
    TELEGRAM_BOT_USERNAME: FAKE.telegram.botUsername,
    TELEGRAM_WEBHOOK_SECRET: FAKE.telegram.webhookSecret,
    WHATSAPP_API_URL: `${url}/whatsapp`,
    WHATSAPP_TOKEN: FAKE.whatsapp.token,
    WHATSAPP_PHONE_NUMBER_ID: FAKE.whatsapp.phoneNumberId,
    WHATSAPP_APP_SECRET: FAKE.whatsapp.appSecret,
    WHATSAPP_VERIFY_TOKEN: FAKE.whatsapp.verifyToken,
    X_CLIENT_ID: FAKE.x.clientId,
    X_CLIENT_SECRET: FAKE.x.clientSecret,
    X_AUTH_URL: `${url}/x/oauth2/authorize`,
    X_TOKEN_URL: `${url}/x/2/oauth2/token`,
    X_API_URL: `${url}/x`,
    X_BOT_TOKEN: FAKE.x.botToken,
    X_CONSUMER_SECRET: FAKE.x.consumerSecret,
  };
}
