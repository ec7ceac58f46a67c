// What user-written text may contain. Control characters can corrupt logs and
// terminals, and bidi overrides make a name read differently from what it is
// ("‮moc.knab" shows as "bank.com"), so names and bios refuse them. Every text
// must be well-formed Unicode: a lone surrogate cannot be encoded as UTF-8 and
// would reach storage, notifications and other clients as garbage.

// C0 and C1 controls, DEL, and the bidi embeddings, overrides and isolates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_EXCEPT_NEWLINE_TAB = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Any C0/C1 control character (NUL, BEL, newline, …). */
export function hasControl(s: string): boolean {
  return CONTROL.test(s);
}

export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** A single-line name: no controls at all, no bidi controls. */
export function isCleanLine(s: string): boolean {
  return isWellFormed(s) && !CONTROL.test(s) && !BIDI_CONTROL.test(s);
}

/** Multi-line prose (a bio): newlines and tabs allowed, other controls and bidi controls not. */
export function isCleanText(s: string): boolean {
  return isWellFormed(s) && !CONTROL_EXCEPT_NEWLINE_TAB.test(s) && !BIDI_CONTROL.test(s);
}
