// Sign in with a 6-digit code sent by email or SMS.
import { useState } from "react";
import { api, call } from "../api/client";
import { COOKIE_SESSION, type SessionUser, signedIn } from "../auth/session";
import { CodeEntry } from "./CodeEntry";

export function CodeSignIn({
  channels,
  onSignedIn,
}: {
  channels: ("email" | "phone")[];
  onSignedIn: (user: SessionUser, created: boolean) => void;
}) {
  const [channel, setChannel] = useState(channels[0]);
  return (
    <div className="stack code-sign-in">
      {channels.length > 1 ? (
        <fieldset>
          <legend>Get a code by</legend>
          {channels.map((ch) => (
            <label key={ch} className="choice">
              <input type="radio" name="code-channel" checked={channel === ch} onChange={() => setChannel(ch)} />
              <span>{ch === "email" ? "Email" : "Text message"}</span>
            </label>
          ))}
        </fieldset>
      ) : null}
      <CodeEntry
        key={channel}
        channel={channel}
        request={(target) =>
          call(api.POST("/v1/auth/code/start", { body: { channel, target } })).then((r) => r.challengeId)
        }
        confirm={(challengeId, code) =>
          call(api.POST("/v1/auth/code/verify", { body: { challengeId, code }, headers: COOKIE_SESSION }))
        }
        onConfirmed={(s) => {
          signedIn(s);
          onSignedIn(s.user, s.created);
        }}
        text={{
          requestForm: "Get a sign-in code",
          codeForm: "Sign in with the code",
          send: "Send me a code",
          codeLabel: "Sign-in code",
          codeHint: "6 digits; it expires in 10 minutes.",
          submit: "Sign in",
          submitting: "Signing in…",
        }}
      />
    </div>
  );
}
