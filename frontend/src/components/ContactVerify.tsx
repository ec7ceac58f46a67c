// Verify an email address or phone number with a 6-digit code.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, call } from "../api/client";
import { ErrorNote, Field, Note } from "./ui";

export function ContactVerify({ channel }: { channel: "email" | "phone" }) {
  const qc = useQueryClient();
  const [target, setTarget] = useState("");
  const [code, setCode] = useState("");
  const request = useMutation({
    mutationFn: () => call(api.POST("/v1/verify/request", { body: { channel, target: target.trim() } })),
  });
  const confirm = useMutation({
    mutationFn: (verificationId: string) => call(api.POST("/v1/verify/confirm", { body: { verificationId, code } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["me"] }),
  });
  const label = channel === "email" ? "Email address" : "Phone number";
  if (confirm.isSuccess) return <Note kind="success">{label} verified.</Note>;
  return (
    <div className="stack">
      <form
        className="row"
        aria-label={`Verify ${channel}`}
        onSubmit={(e) => {
          e.preventDefault();
          request.mutate();
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
        <button type="submit" className="secondary" disabled={!target.trim() || request.isPending}>
          {request.isPending ? "Sending…" : request.isSuccess ? "Send a new code" : "Send code"}
        </button>
      </form>
      {request.isError ? <ErrorNote error={request.error} /> : null}
      {request.isSuccess ? (
        <form
          className="row"
          aria-label={`Confirm ${channel} code`}
          onSubmit={(e) => {
            e.preventDefault();
            confirm.mutate(request.data.verificationId);
          }}
        >
          <Field label="6-digit code" hint="We sent it just now. It expires in 10 minutes.">
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
          <button type="submit" disabled={code.length !== 6 || confirm.isPending}>
            {confirm.isPending ? "Checking…" : "Verify"}
          </button>
        </form>
      ) : null}
      {confirm.isError ? <ErrorNote error={confirm.error} /> : null}
    </div>
  );
}
