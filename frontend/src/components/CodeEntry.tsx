// The one two-step code form: an email address or phone number, "send me a
// code", then the 6-digit code. Used to sign in (CodeSignIn) and to verify a
// contact (ContactVerify); each says what its requests are and what the words are.
import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import { ErrorNote, Field } from "./ui";

export interface CodeEntryText {
  /** Accessible names of the two forms. */
  requestForm: string;
  codeForm: string;
  send: string;
  codeLabel: string;
  codeHint: string;
  submit: string;
  submitting: string;
}

export function CodeEntry<T>({
  channel,
  request,
  confirm,
  onConfirmed,
  text,
}: {
  channel: "email" | "phone";
  /** Sends the code; resolves to the id the confirmation needs. */
  request: (target: string) => Promise<string>;
  confirm: (id: string, code: string) => Promise<T>;
  onConfirmed: (result: T) => void;
  text: CodeEntryText;
}) {
  const [target, setTarget] = useState("");
  const [code, setCode] = useState("");
  const send = useMutation({ mutationFn: () => request(target.trim()) });
  const check = useMutation({ mutationFn: (id: string) => confirm(id, code), onSuccess: onConfirmed });
  const label = channel === "email" ? "Email address" : "Phone number";
  // The phone hint sits under the whole row, so the button lines up with the field, not with the hint.
  const hintId = useId();
  return (
    <div className="stack">
      <form
        className="row"
        aria-label={text.requestForm}
        onSubmit={(e) => {
          e.preventDefault();
          send.mutate();
        }}
      >
        <Field label={label}>
          {(p) => (
            <input
              {...p}
              aria-describedby={channel === "phone" ? hintId : undefined}
              type={channel === "email" ? "email" : "tel"}
              autoComplete={channel === "email" ? "email" : "tel"}
              value={target}
              onChange={(e) => setTarget(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="secondary" disabled={!target.trim() || send.isPending}>
          {send.isPending ? "Sending…" : send.isSuccess ? "Send a new code" : text.send}
        </button>
      </form>
      {channel === "phone" ? (
        <p className="hint tight" id={hintId}>
          International format, e.g. +14155550123.
        </p>
      ) : null}
      {send.isError ? <ErrorNote error={send.error} /> : null}
      {send.isSuccess ? (
        <form
          className="row"
          aria-label={text.codeForm}
          onSubmit={(e) => {
            e.preventDefault();
            check.mutate(send.data);
          }}
        >
          <Field label={text.codeLabel} hint={text.codeHint}>
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={6}
                value={code}
                onChange={(e) => setCode(e.target.value.replace(/\D/g, ""))}
              />
            )}
          </Field>
          <button type="submit" disabled={code.length !== 6 || check.isPending}>
            {check.isPending ? text.submitting : text.submit}
          </button>
        </form>
      ) : null}
      {check.isError ? <ErrorNote error={check.error} /> : null}
    </div>
  );
}
