// First run: pick a handle, set a price, optionally verify a contact, share the link.
import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useSearch } from "wouter";
import { api, call } from "../api/client";
import { useMe } from "../api/queries";
import { ContactVerify } from "../components/ContactVerify";
import { PricingForm } from "../components/PricingForm";
import { ProfileForm } from "../components/ProfileForm";
import { ErrorNote, Loading, PageHeader } from "../components/ui";
import { ShareLink } from "./Settings";

const STEPS = ["Your handle", "Your price", "Verify (optional)", "Share"] as const;

export default function Onboarding() {
  const me = useMe();
  const next = new URLSearchParams(useSearch()).get("next");
  const [step, setStep] = useState(0);
  useEffect(() => {
    document.title = "Set up · Paid Inbox";
  }, []);
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorNote error={me.error} retry={() => me.refetch()} />;
  const { user, pricing } = me.data;
  return (
    <div className="narrow">
      <PageHeader title="Set up your paid inbox">
        <ol className="steps" aria-label="Steps">
          {STEPS.map((s, i) => (
            <li key={s} aria-current={i === step ? "step" : undefined} className={i < step ? "done" : undefined}>
              {s}
            </li>
          ))}
        </ol>
      </PageHeader>
      {step === 0 ? (
        <section className="card" aria-labelledby="s0">
          <h2 id="s0">Choose your handle</h2>
          <ProfileForm initial={user} submitLabel="Continue" onSaved={() => setStep(1)} />
        </section>
      ) : null}
      {step === 1 ? (
        <section className="card" aria-labelledby="s1">
          <h2 id="s1">Set your price</h2>
          <p className="muted">What people pay to reach you. You can change it any time.</p>
          <PricingForm pricing={pricing} submitLabel="Continue" onSaved={() => setStep(2)} />
        </section>
      ) : null}
      {step === 2 ? (
        <section className="card" aria-labelledby="s2">
          <h2 id="s2">Verify your email or phone</h2>
          <p className="muted">A verified badge tells senders you're real. Optional.</p>
          <ContactVerify channel="email" />
          <ContactVerify channel="phone" />
          <PhoneDiscovery />
          <button type="button" onClick={() => setStep(3)}>
            Continue
          </button>
        </section>
      ) : null}
      {step === 3 ? (
        <section className="card" aria-labelledby="s3">
          <h2 id="s3">You're ready</h2>
          {user.handle ? <ShareLink handle={user.handle} /> : null}
          <p className="actions">
            <Link href={next && /^\/(?!\/)/.test(next) ? next : "/inbox"} className="button">
              Go to your inbox
            </Link>
          </p>
        </section>
      ) : null}
    </div>
  );
}

/** Opt in to being found by people who know your (verified) phone number. */
function PhoneDiscovery() {
  const [on, setOn] = useState(false);
  const save = useMutation({
    mutationFn: (value: boolean) => call(api.PUT("/v1/me/profile", { body: { discoverableByPhone: value } })),
  });
  return (
    <label className="choice">
      <input
        type="checkbox"
        checked={on}
        onChange={(e) => {
          setOn(e.target.checked);
          save.mutate(e.target.checked);
        }}
      />
      <span>Let people who know my verified phone number find me{save.isError ? " (not saved — try again)" : ""}</span>
    </label>
  );
}
