// Settings: profile and link, pricing, who gets discounts or is blocked, sign-in
// methods (passkeys, wallet, social), verified contacts, notifications, sessions.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useLocation } from "wouter";
import { api, call } from "../api/client";
import { providersQuery, useMe } from "../api/queries";
import { registerPasskey } from "../auth/passkey";
import { signedOut } from "../auth/session";
import { Channels } from "../components/Channels";
import { ContactVerify } from "../components/ContactVerify";
import { PricingForm } from "../components/PricingForm";
import { ProfileForm } from "../components/ProfileForm";
import { Empty, ErrorNote, Field, Loading, Note, PageHeader } from "../components/ui";
import { ago, dateTime } from "../lib/time";

export function ShareLink({ handle }: { handle: string }) {
  const url = `${location.origin}/@${handle}`;
  const [copied, setCopied] = useState(false);
  return (
    <div className="share">
      <p>Your link — share it anywhere people might want to reach you:</p>
      <p className="row">
        <a href={url} className="share-url" data-testid="share-link">
          {url}
        </a>
        <button
          type="button"
          className="secondary"
          onClick={() =>
            navigator.clipboard?.writeText(url).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? "Copied" : "Copy link"}
        </button>
      </p>
    </div>
  );
}

export default function Settings() {
  const me = useMe();
  useEffect(() => {
    document.title = "Settings · Paid Inbox";
  }, []);
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorNote error={me.error} retry={() => me.refetch()} />;
  const { user, pricing, profile } = me.data;
  return (
    <div className="settings">
      <PageHeader title="Settings" />
      <section className="card" aria-labelledby="profile-h">
        <h2 id="profile-h">Profile</h2>
        {user.handle ? <ShareLink handle={user.handle} /> : null}
        <ProfileForm initial={user} profile={profile} full />
      </section>
      <section className="card" aria-labelledby="pricing-h">
        <h2 id="pricing-h">Pricing</h2>
        <PricingForm pricing={pricing} />
      </section>
      <Senders />
      <SignInMethods />
      <section className="card" aria-labelledby="contacts-h">
        <h2 id="contacts-h">Verified contacts</h2>
        <ul className="list">
          <li>Email: {user.verified.email ? <span className="chip ok">verified</span> : "not verified"}</li>
          <li>Phone: {user.verified.phone ? <span className="chip ok">verified</span> : "not verified"}</li>
        </ul>
        <div className="stack contacts">
          <ContactVerify channel="email" />
          <ContactVerify channel="phone" />
        </div>
      </section>
      <Channels />
      <Sessions />
    </div>
  );
}

function Senders() {
  const qc = useQueryClient();
  const lists = useQuery({ queryKey: ["senders"], queryFn: () => call(api.GET("/v1/me/senders")) });
  const [allowHandle, setAllowHandle] = useState("");
  const [discount, setDiscount] = useState("50");
  const [blockHandle, setBlockHandle] = useState("");
  const done = () => qc.invalidateQueries({ queryKey: ["senders"] });
  const sender = (h: string) => h.trim().replace(/^@/, "");
  const allow = useMutation({
    mutationFn: () =>
      call(
        api.PUT("/v1/me/allowlist/{sender}", {
          params: { path: { sender: sender(allowHandle) } },
          body: { discountBps: Math.round(Number(discount) * 100) },
        }),
      ),
    onSuccess: () => {
      setAllowHandle("");
      done();
    },
  });
  const block = useMutation({
    mutationFn: () => call(api.PUT("/v1/me/blocklist/{sender}", { params: { path: { sender: sender(blockHandle) } } })),
    onSuccess: () => {
      setBlockHandle("");
      done();
    },
  });
  const remove = useMutation({
    mutationFn: ({ list, id }: { list: "allowlist" | "blocklist"; id: string }) =>
      list === "allowlist"
        ? call(api.DELETE("/v1/me/allowlist/{sender}", { params: { path: { sender: id } } }))
        : call(api.DELETE("/v1/me/blocklist/{sender}", { params: { path: { sender: id } } })),
    onSuccess: done,
  });
  const pct = Number(discount);
  return (
    <section className="card" aria-labelledby="senders-h">
      <h2 id="senders-h">Discounts and blocks</h2>
      {lists.isPending ? <Loading /> : null}
      {lists.isError ? <ErrorNote error={lists.error} retry={() => lists.refetch()} /> : null}
      <h3>Discounts</h3>
      {lists.data && lists.data.allowlist.length === 0 ? <Empty title="No one has a discount." /> : null}
      <ul className="list">
        {lists.data?.allowlist.map((a) => (
          <li key={a.sender} className="row">
            <span>
              @{a.handle ?? a.sender} — {a.discountBps / 100}% off
            </span>
            <button type="button" className="link" onClick={() => remove.mutate({ list: "allowlist", id: a.sender })}>
              Remove discount for @{a.handle ?? a.sender}
            </button>
          </li>
        ))}
      </ul>
      <form
        className="row"
        aria-label="Give a discount"
        onSubmit={(e) => {
          e.preventDefault();
          allow.mutate();
        }}
      >
        <Field label="Handle">
          {(p) => (
            <input {...p} value={allowHandle} onChange={(e) => setAllowHandle(e.target.value)} placeholder="@friend" />
          )}
        </Field>
        <Field label="Discount (%)">
          {(p) => <input {...p} inputMode="decimal" value={discount} onChange={(e) => setDiscount(e.target.value)} />}
        </Field>
        <button
          type="submit"
          className="secondary"
          disabled={!sender(allowHandle) || !(pct >= 0 && pct <= 100) || allow.isPending}
        >
          Give discount
        </button>
      </form>
      {allow.isError ? <ErrorNote error={allow.error} /> : null}
      <h3>Blocked</h3>
      {lists.data && lists.data.blocklist.length === 0 ? <Empty title="No one is blocked." /> : null}
      <ul className="list">
        {lists.data?.blocklist.map((b) => (
          <li key={b.sender} className="row">
            <span>@{b.handle ?? b.sender}</span>
            <button type="button" className="link" onClick={() => remove.mutate({ list: "blocklist", id: b.sender })}>
              Unblock @{b.handle ?? b.sender}
            </button>
          </li>
        ))}
      </ul>
      <form
        className="row"
        aria-label="Block a sender"
        onSubmit={(e) => {
          e.preventDefault();
          block.mutate();
        }}
      >
        <Field label="Handle to block">
          {(p) => (
            <input {...p} value={blockHandle} onChange={(e) => setBlockHandle(e.target.value)} placeholder="@spammer" />
          )}
        </Field>
        <button type="submit" className="secondary" disabled={!sender(blockHandle) || block.isPending}>
          Block
        </button>
      </form>
      {block.isError ? <ErrorNote error={block.error} /> : null}
      {remove.isError ? <ErrorNote error={remove.error} /> : null}
    </section>
  );
}

const PROVIDER_NAMES: Record<string, string> = { google: "Google", github: "GitHub" };

function SignInMethods() {
  const qc = useQueryClient();
  const methods = useQuery({ queryKey: ["sign-in-methods"], queryFn: () => call(api.GET("/v1/me/sign-in-methods")) });
  const providers = useQuery(providersQuery);
  const done = () => qc.invalidateQueries({ queryKey: ["sign-in-methods"] });
  const add = useMutation({ mutationFn: registerPasskey, onSuccess: done });
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE("/v1/me/passkeys/{id}", { params: { path: { id } } })),
    onSuccess: done,
  });
  const link = useMutation({
    mutationFn: (provider: "google" | "github") =>
      call(api.POST("/v1/auth/oauth/{provider}/link-start", { params: { path: { provider } } })),
    onSuccess: ({ authorizeUrl }) => location.assign(authorizeUrl),
  });
  const social = (providers.data?.methods ?? []).filter((m) => m.startsWith("oauth:")).map((m) => m.slice(6));
  return (
    <section className="card" aria-labelledby="methods-h">
      <h2 id="methods-h">Sign-in methods</h2>
      {methods.isPending ? <Loading /> : null}
      {methods.isError ? <ErrorNote error={methods.error} retry={() => methods.refetch()} /> : null}
      {methods.data ? (
        <>
          <h3>Wallet</h3>
          <p>
            {methods.data.walletAddress ? (
              <code className="addr">{methods.data.walletAddress}</code>
            ) : (
              "No wallet linked."
            )}
          </p>
          <h3>Passkeys</h3>
          {methods.data.passkeys.length === 0 ? <p>No passkeys yet.</p> : null}
          <ul className="list" aria-label="Passkeys">
            {methods.data.passkeys.map((k, i) => (
              <li key={k.id} className="row">
                <span>
                  Passkey {i + 1} · added {dateTime(k.createdAt)}
                  {k.lastUsedAt ? ` · last used ${dateTime(k.lastUsedAt)}` : ""}
                </span>
                <button type="button" className="link" onClick={() => remove.mutate(k.id)}>
                  Remove passkey {i + 1}
                </button>
              </li>
            ))}
          </ul>
          <button type="button" className="secondary" onClick={() => add.mutate()} disabled={add.isPending}>
            {add.isPending ? "Waiting for your passkey…" : "Add a passkey"}
          </button>
          {add.isError ? <ErrorNote error={add.error} /> : null}
          {remove.isError ? <ErrorNote error={remove.error} /> : null}
          {social.length > 0 || methods.data.oauth.length > 0 ? <h3>Social accounts</h3> : null}
          <ul className="list">
            {methods.data.oauth.map((o) => (
              <li key={o.provider}>
                {PROVIDER_NAMES[o.provider] ?? o.provider} linked {dateTime(o.createdAt)}
              </li>
            ))}
          </ul>
          <p className="actions">
            {social
              .filter((p) => !methods.data.oauth.some((o) => o.provider === p))
              .map((p) => (
                <button
                  key={p}
                  type="button"
                  className="secondary"
                  onClick={() => link.mutate(p as "google" | "github")}
                >
                  Link {PROVIDER_NAMES[p] ?? p}
                </button>
              ))}
          </p>
          {link.isError ? <ErrorNote error={link.error} /> : null}
        </>
      ) : null}
    </section>
  );
}

function Sessions() {
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const sessions = useQuery({ queryKey: ["sessions"], queryFn: () => call(api.GET("/v1/me/sessions")) });
  const revoke = useMutation({
    mutationFn: (id: string) => call(api.DELETE("/v1/me/sessions/{id}", { params: { path: { id } } })),
    onSettled: () => qc.invalidateQueries({ queryKey: ["sessions"] }),
  });
  const everywhere = useMutation({
    // No refresh token in the request: the server revokes every session of this user.
    mutationFn: () => call(api.POST("/v1/auth/logout", { body: {} })),
    onSuccess: () => {
      signedOut();
      qc.clear();
      navigate("/");
    },
  });
  const list = sessions.data?.sessions ?? [];
  return (
    <section className="card" aria-labelledby="sessions-h">
      <h2 id="sessions-h">Sessions</h2>
      <p>Where your account is signed in. Sign out a device you don't recognise or no longer use.</p>
      {sessions.isPending ? <Loading label="Loading your sessions…" /> : null}
      {sessions.isError ? <ErrorNote error={sessions.error} retry={() => sessions.refetch()} /> : null}
      {list.length > 0 ? (
        <ul className="list sessions" aria-label="Signed-in devices">
          {list.map((s) => {
            const device = s.device ?? "Unknown device";
            return (
              <li key={s.id} className="row">
                <span>
                  <strong>{device}</strong>
                  {s.current ? <span className="chip ok">This device</span> : null}
                  <br />
                  <span className="muted">
                    Signed in {dateTime(s.createdAt)} · last active {ago(s.lastUsedAt)}
                  </span>
                </span>
                {s.current ? null : (
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => revoke.mutate(s.id)}
                    disabled={revoke.isPending && revoke.variables === s.id}
                    aria-label={`Sign out ${device}, signed in ${dateTime(s.createdAt)}`}
                  >
                    Sign out
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      ) : null}
      {revoke.isError ? <ErrorNote error={revoke.error} /> : null}
      {revoke.isSuccess ? <Note kind="success">That device is signed out.</Note> : null}
      <p>Lost a device? Sign out everywhere, including here.</p>
      <button type="button" className="danger" onClick={() => everywhere.mutate()} disabled={everywhere.isPending}>
        Sign out everywhere
      </button>
      {everywhere.isError ? <ErrorNote error={everywhere.error} /> : null}
    </section>
  );
}
