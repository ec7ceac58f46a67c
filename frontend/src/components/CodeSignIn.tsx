// Sign in with a 6-digit code sent by email or SMS.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { api, call } from "../api/client";
import { COOKIE_SESSION, type SessionUser, signedIn } from "../auth/session";
import { ErrorNote, Field } from "./ui";

export function CodeSignIn({
  channels,
  onSignedIn,
}: {
  channels: ("email" | "phone")[];
  onSignedIn: (user: SessionUser, created: boolean) => void;
}) {
  const [channel, setChannel] = useState(channels[0]);
  const [target, setTarget] = useState("");
  const [code, setCode] = useState("");
  const start = useMutation({
    mutationFn: () => call(api.POST("/v1/auth/code/start", { body: { channel, target: target.trim() } })),
  });
  const verify = useMutation({
    mutationFn: (challengeId: string) =>
      call(api.POST("/v1/auth/code/verify", { body: { challengeId, code }, headers: COOKIE_SESSION })),
    onSuccess: (s) => {
      signedIn(s);
      onSignedIn(s.user, s.created);
    },
  });
  const label = channel === "email" ? "Email address" : "Phone number";
  return (
    <div className="stack code-sign-in">
      {channels.length > 1 ? (
        <fieldset>
          <legend>Get a code by</legend>
          {channels.map((ch) => (
            <label key={ch} className="choice">
              <input
                type="radio"
                name="code-channel"
                checked={channel === ch}
                onChange={() => {
                  setChannel(ch);
                  start.reset();
                }}
              />
              <span>{ch === "email" ? "Email" : "Text message"}</span>
            </label>
          ))}
        </fieldset>
      ) : null}
      <form
        className="row"
        aria-label="Get a sign-in code"
        onSubmit={(e) => {
          e.preventDefault();
          start.mutate();
        }}
      >
        <Field label={label} hint={channel === "phone" ? "International format, e.g. +14155550123." : undefined}>
          {(p) => (
            <input
              {...p}
              type={channel === "email" ? "email" : "tel"}
              autoComplete={channel === "email" ? "email" : "tel"}
              value={target}
              onChange={(e) => setTarget(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="secondary" disabled={!target.trim() || start.isPending}>
          {start.isPending ? "Sending…" : start.isSuccess ? "Send a new code" : "Send me a code"}
        </button>
      </form>
      {start.isError ? <ErrorNote error={start.error} /> : null}
      {start.isSuccess ? (
        <form
          className="row"
          aria-label="Sign in with the code"
          onSubmit={(e) => {
            e.preventDefault();
            verify.mutate(start.data.challengeId);
          }}
        >
          <Field label="Sign-in code" hint="6 digits; it expires in 10 minutes.">
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
          <button type="submit" disabled={code.length !== 6 || verify.isPending}>
            {verify.isPending ? "Signing in…" : "Sign in"}
          </button>
        </form>
      ) : null}
      {verify.isError ? <ErrorNote error={verify.error} /> : null}
    </div>
  );
}
