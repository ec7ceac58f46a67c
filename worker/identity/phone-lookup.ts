// Discovery by phone: the user id behind a verified, discoverable E.164 number.
// Unknown, unverified and not-discoverable must all look the same to the caller.
export async function findDiscoverableUserIdByPhone(_env: Env, _e164: string): Promise<string | null> {
  return null; // filled in by the identity work (blind-index lookup)
}
