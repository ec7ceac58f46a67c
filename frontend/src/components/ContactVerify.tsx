// Verify an email address or phone number with a 6-digit code.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, call } from "../api/client";
import { CodeEntry } from "./CodeEntry";
import { Note } from "./ui";

export function ContactVerify({ channel }: { channel: "email" | "phone" }) {
  const qc = useQueryClient();
  const [verified, setVerified] = useState(false);
  if (verified) return <Note kind="success">{channel === "email" ? "Email address" : "Phone number"} verified.</Note>;
  return (
    <CodeEntry
      channel={channel}
      request={(target) =>
        call(api.POST("/v1/verify/request", { body: { channel, target } })).then((r) => r.verificationId)
      }
      confirm={(verificationId, code) => call(api.POST("/v1/verify/confirm", { body: { verificationId, code } }))}
      onConfirmed={() => {
        setVerified(true);
        qc.invalidateQueries({ queryKey: ["me"] });
      }}
      text={{
        requestForm: `Verify ${channel}`,
        codeForm: `Confirm ${channel} code`,
        send: "Send code",
        codeLabel: "6-digit code",
        codeHint: "We sent it just now. It expires in 10 minutes.",
        submit: "Verify",
        submitting: "Checking…",
      }}
    />
  );
}
