// What a user agrees to when connecting a rail. Bump the version whenever the
// text changes: channels connected under an older version keep working, but a
// new connect must present the current one (400 consent_required otherwise).
export const CONSENT_VERSION = "2026-11-01";

export const CONSENT_TEXT =
  "Paid Inbox will send a short notice through this channel when a paid message arrives for you " +
  "(sender handle, price and a link; the message text only if you turn on “include message text”). " +
  "We store what is needed to reach you there (chat id, phone number, X account id or webhook URL) " +
  "encrypted, use it for nothing else, and delete it when you disconnect. Notices are best effort: " +
  "your inbox is always the record. You can disconnect at any time here, or with /stop in Telegram.";
