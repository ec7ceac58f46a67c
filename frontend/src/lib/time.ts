// Dates for people: relative when recent, plus countdowns for reply windows.
const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

export function ago(iso: string, now = Date.now()): string {
  const s = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, "second");
  if (abs < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(s / 3600), "hour");
  if (abs < 86400 * 7) return rtf.format(Math.round(s / 86400), "day");
  return new Date(iso).toLocaleDateString();
}

export function dateTime(iso: string | number): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Like dateTime, without the year when it is this year (for narrow columns: "Nov 29, 7:06 PM"). */
export function shortDateTime(iso: string | number): string {
  const d = new Date(iso);
  if (d.getFullYear() !== new Date().getFullYear()) return dateTime(iso);
  return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
}

/** "2 d 4 h" / "3 h 12 min" / "8 min" left until `until` (ms); "ended" after. */
export function countdown(until: number, now = Date.now()): string {
  const left = until - now;
  if (left <= 0) return "ended";
  const min = Math.floor(left / 60_000);
  const d = Math.floor(min / 1440);
  const h = Math.floor((min % 1440) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${min % 60} min`;
  return `${Math.max(1, min)} min`;
}
