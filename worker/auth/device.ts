// A short, human summary of the device a session was started from ("Chrome on
// macOS"), stored with the session so Settings can list sessions people
// recognise. Only the summary is kept, never the whole User-Agent string.
import Bowser from "bowser";

const MAX = 60;
const clean = (s: string) => s.replace(/[^\x20-\x7e]/g, "").trim();

export function deviceOf(userAgent: string | undefined): string | null {
  const ua = clean(userAgent ?? "").slice(0, 512);
  if (!ua) return null;
  const { browser, os } = Bowser.parse(ua);
  if (browser.name) return clean(os.name ? `${browser.name} on ${os.name}` : browser.name).slice(0, MAX);
  // Not a browser (an API client such as curl/8.5.0): its first product token.
  return ua.split(/\s/)[0].slice(0, MAX);
}
