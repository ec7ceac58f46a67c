// Handle, display name, bio and how people can find you.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, call } from "../api/client";
import { updateUser } from "../auth/session";
import { useStickyState } from "../lib/sticky";
import { ErrorNote, Field, Note, Unsaved } from "./ui";

interface Props {
  initial: { handle: string | null; displayName: string | null };
  profile?: { bio: string | null; discoverableByPhone: boolean; discoverableInSearch: boolean };
  /** Onboarding asks for the handle and name only. */
  full?: boolean;
  submitLabel?: string;
  onSaved?: (handle: string | null) => void;
}

export function ProfileForm({ initial, profile, full = false, submitLabel = "Save profile", onSaved }: Props) {
  const qc = useQueryClient();
  // Unsaved edits survive being sent to sign in and back (lib/sticky.ts).
  const form = useStickyState(full ? "profile" : "profile-short", {
    handle: initial.handle ?? "",
    displayName: initial.displayName ?? "",
    bio: profile?.bio ?? "",
    byPhone: profile?.discoverableByPhone ?? false,
    inSearch: profile?.discoverableInSearch ?? true,
  });
  const { handle, displayName, bio, byPhone, inSearch } = form.value;
  const setHandle = (v: string) => form.set({ handle: v });
  const setDisplayName = (v: string) => form.set({ displayName: v });
  const setBio = (v: string) => form.set({ bio: v });
  const setByPhone = (v: boolean) => form.set({ byPhone: v });
  const setInSearch = (v: boolean) => form.set({ inSearch: v });
  const h = handle.trim().replace(/^@/, "").toLowerCase();
  const handleOk = /^[a-z0-9_]{3,30}$/.test(h);
  const save = useMutation({
    mutationFn: () =>
      call(
        api.PUT("/v1/me/profile", {
          body: {
            handle: h,
            displayName: displayName.trim() || null,
            ...(full ? { bio: bio.trim() || null, discoverableByPhone: byPhone, discoverableInSearch: inSearch } : {}),
          },
        }),
      ),
    onSuccess: ({ user }) => {
      form.clear();
      updateUser(user);
      qc.invalidateQueries({ queryKey: ["me"] });
      onSaved?.(user.handle);
    },
  });
  return (
    <form
      className="stack"
      aria-label="Profile"
      onSubmit={(e) => {
        e.preventDefault();
        if (handleOk) save.mutate();
      }}
    >
      <Field label="Handle" hint="3–30 lowercase letters, digits or underscores. Your link: /@handle">
        {(p) => (
          <input
            {...p}
            value={handle}
            onChange={(e) => setHandle(e.target.value)}
            autoCapitalize="none"
            autoComplete="username"
            spellCheck={false}
            aria-invalid={handle !== "" && !handleOk}
          />
        )}
      </Field>
      <Field label="Display name" hint="Shown on your page. Optional.">
        {(p) => (
          <input
            {...p}
            value={displayName}
            onChange={(e) => setDisplayName(e.target.value)}
            autoComplete="name"
            maxLength={80}
          />
        )}
      </Field>
      {full ? (
        <>
          <Field label="Bio" hint="A line about you for your page and link previews. Optional.">
            {(p) => <textarea {...p} rows={2} value={bio} maxLength={500} onChange={(e) => setBio(e.target.value)} />}
          </Field>
          <label className="choice">
            <input type="checkbox" checked={inSearch} onChange={(e) => setInSearch(e.target.checked)} />
            <span>Show me in search</span>
          </label>
          <label className="choice">
            <input type="checkbox" checked={byPhone} onChange={(e) => setByPhone(e.target.checked)} />
            <span>Let people who know my verified phone number find me</span>
          </label>
        </>
      ) : null}
      {form.restored ? <Unsaved onDiscard={form.discard} /> : null}
      <button type="submit" disabled={!handleOk || save.isPending}>
        {save.isPending ? "Saving…" : submitLabel}
      </button>
      {save.isError ? <ErrorNote error={save.error} /> : null}
      {save.isSuccess && !onSaved ? <Note kind="success">Profile saved.</Note> : null}
    </form>
  );
}
