// Settings → Notifications: opt-in rails that say "something paid arrived"
// (Telegram, WhatsApp, X, email, a signed webhook). Consent text first; each
// rail's connect flow (Telegram deep link + QR code, webhook URL with its
// signing secret shown once), includeBody, minPrice, a test notice, and health.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { encode } from "uqr";
import { api, call } from "../api/client";
import { formatUsdc, parseUsdc, toInput } from "../lib/money";
import { dateTime } from "../lib/time";
import { Empty, ErrorNote, Field, Loading, Note } from "./ui";

type ChannelName = "telegram" | "whatsapp" | "x" | "webhook" | "email";

const LABELS: Record<ChannelName, string> = {
  telegram: "Telegram",
  whatsapp: "WhatsApp",
  x: "X direct message",
  email: "Email",
  webhook: "Webhook",
};

const HOW: Record<ChannelName, string> = {
  telegram: "Open the link (or scan the code) and press Start in Telegram.",
  whatsapp: "Uses your verified phone number.",
  x: "You will be asked to allow Paid Inbox on X.",
  email: "Uses your verified email address.",
  webhook: "We POST a signed JSON event (Standard Webhooks) to your HTTPS endpoint.",
};

export function Channels() {
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ["channels"], queryFn: () => call(api.GET("/v1/channels")) });
  const [consent, setConsent] = useState(false);
  const refresh = () => {
    qc.invalidateQueries({ queryKey: ["channels"] });
    qc.invalidateQueries({ queryKey: ["me"] });
  };
  if (list.isPending) return <Loading />;
  if (list.isError) return <ErrorNote error={list.error} retry={() => list.refetch()} />;
  const { channels, consentVersion, consentText, available } = list.data;
  return (
    <section className="card" aria-labelledby="channels-h">
      <h2 id="channels-h">Notifications</h2>
      <p>Get a short notice elsewhere when a paid message arrives. Your inbox stays the record.</p>
      <blockquote className="consent" data-testid="consent-text">
        {consentText}
      </blockquote>
      <label className="choice">
        <input type="checkbox" checked={consent} onChange={(e) => setConsent(e.target.checked)} />
        <span>I agree (version {consentVersion})</span>
      </label>
      {consent ? null : <p className="hint">Tick “I agree” to connect a channel.</p>}
      {available.length === 0 ? <Empty title="No notification channels are offered here." /> : null}
      <ul className="list channels">
        {available.map((name) => (
          <ChannelRow
            key={name}
            name={name}
            channel={channels.find((c) => c.channel === name) ?? null}
            consentVersion={consent ? consentVersion : null}
            onChange={refresh}
          />
        ))}
      </ul>
    </section>
  );
}

type Channel = {
  channel: ChannelName;
  status: "pending" | "connected" | "revoked";
  includeBody: boolean;
  minPrice: string;
  connectedAt: string | null;
  health: { lastDeliveredAt: string | null; lastError: string | null; lastErrorAt: string | null };
};

function ChannelRow({
  name,
  channel,
  consentVersion,
  onChange,
}: {
  name: ChannelName;
  channel: Channel | null;
  consentVersion: string | null;
  onChange: () => void;
}) {
  const [url, setUrl] = useState("");
  const connect = useMutation({
    mutationFn: () =>
      call(
        api.POST("/v1/channels/{channel}/connect", {
          params: { path: { channel: name } },
          body: { consentVersion: consentVersion ?? undefined, ...(name === "webhook" ? { url: url.trim() } : {}) },
        }),
      ),
    onSuccess: (r) => {
      if (name === "x" && r.connectUrl) location.assign(r.connectUrl);
      onChange();
    },
  });
  const test = useMutation({
    mutationFn: () => call(api.POST("/v1/channels/{channel}/test", { params: { path: { channel: name } } })),
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE("/v1/channels/{channel}", { params: { path: { channel: name } } })),
    onSuccess: () => {
      connect.reset();
      onChange();
    },
  });
  const connected = channel?.status === "connected";
  return (
    <li className="stack" data-testid={`channel-${name}`}>
      <div className="row">
        <strong>{LABELS[name]}</strong>
        {channel ? <span className={`chip ${connected ? "ok" : ""}`}>{channel.status}</span> : null}
      </div>
      {!connected ? <p className="hint">{HOW[name]}</p> : null}
      {!connected || name === "webhook" ? (
        <form
          className="row"
          aria-label={`Connect ${LABELS[name]}`}
          onSubmit={(e) => {
            e.preventDefault();
            connect.mutate();
          }}
        >
          {name === "webhook" ? (
            <Field label="Endpoint URL" hint="https, on a public host.">
              {(p) => (
                <input
                  {...p}
                  type="url"
                  value={url}
                  placeholder="https://example.com/hooks/paid-inbox"
                  onChange={(e) => setUrl(e.target.value)}
                />
              )}
            </Field>
          ) : null}
          <button
            type="submit"
            className={connected ? "secondary" : undefined}
            disabled={!consentVersion || connect.isPending || (name === "webhook" && !url.trim())}
            title={consentVersion ? undefined : "Agree to the notice above first"}
          >
            {connect.isPending ? "Connecting…" : connected ? "Replace" : `Connect ${LABELS[name]}`}
          </button>
        </form>
      ) : null}
      {connect.isError ? <ErrorNote error={connect.error} /> : null}
      {connect.data?.connectUrl && name === "telegram" ? <TelegramLink url={connect.data.connectUrl} /> : null}
      {connect.data?.signingSecret ? <ShownOnce secret={connect.data.signingSecret} /> : null}
      {channel && connected ? <Settings name={name} channel={channel} onChange={onChange} /> : null}
      {channel ? <Health channel={channel} /> : null}
      {channel ? (
        <div className="row">
          {connected ? (
            <button type="button" className="secondary" onClick={() => test.mutate()} disabled={test.isPending}>
              Send test
            </button>
          ) : null}
          <button type="button" className="link" onClick={() => remove.mutate()}>
            Disconnect {LABELS[name]}
          </button>
        </div>
      ) : null}
      {test.isSuccess ? <Note kind="success">Test notice sent.</Note> : null}
      {test.isError ? <ErrorNote error={test.error} /> : null}
      {remove.isError ? <ErrorNote error={remove.error} /> : null}
    </li>
  );
}

function TelegramLink({ url }: { url: string }) {
  // One SVG path of the dark modules (uqr encodes; React renders: no HTML strings).
  const qr = useMemo(() => {
    const { data, size } = encode(url, { border: 2 });
    let d = "";
    data.forEach((row, y) => {
      row.forEach((dark, x) => {
        if (dark) d += `M${x} ${y}h1v1h-1z`;
      });
    });
    return { d, size };
  }, [url]);
  return (
    <div className="stack telegram-link">
      <p>
        <a href={url} target="_blank" rel="noreferrer" data-testid="telegram-link">
          Open Telegram
        </a>{" "}
        and press Start. The link works once, for 30 minutes.
      </p>
      <svg
        className="qr"
        role="img"
        aria-label="QR code of the Telegram link"
        viewBox={`0 0 ${qr.size} ${qr.size}`}
        width={qr.size * 5}
        height={qr.size * 5}
        shapeRendering="crispEdges"
      >
        <rect width={qr.size} height={qr.size} fill="#fff" />
        <path d={qr.d} fill="#000" />
      </svg>
    </div>
  );
}

function ShownOnce({ secret }: { secret: string }) {
  return (
    <Note kind="warn">
      <p>Signing secret — copy it now, it is not shown again:</p>
      <p className="row">
        <code data-testid="signing-secret">{secret}</code>
        <button type="button" className="secondary" onClick={() => navigator.clipboard?.writeText(secret)}>
          Copy
        </button>
      </p>
    </Note>
  );
}

function Settings({ name, channel, onChange }: { name: ChannelName; channel: Channel; onChange: () => void }) {
  const [includeBody, setIncludeBody] = useState(channel.includeBody);
  const [minPrice, setMinPrice] = useState(toInput(channel.minPrice));
  const parsed = parseUsdc(minPrice);
  const save = useMutation({
    mutationFn: () =>
      call(
        api.PATCH("/v1/channels/{channel}", {
          params: { path: { channel: name } },
          body: { includeBody, minPrice: parsed ?? "0" },
        }),
      ),
    onSuccess: onChange,
  });
  return (
    <form
      className="row"
      aria-label={`${LABELS[name]} settings`}
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <label className="row">
        <input type="checkbox" checked={includeBody} onChange={(e) => setIncludeBody(e.target.checked)} /> Include the
        message text
      </label>
      <Field label="Only for messages of at least (USDC)">
        {(p) => <input {...p} inputMode="decimal" value={minPrice} onChange={(e) => setMinPrice(e.target.value)} />}
      </Field>
      <button type="submit" className="secondary" disabled={parsed === null || save.isPending}>
        Save
      </button>
      {save.isSuccess ? <span className="hint">Saved.</span> : null}
      {save.isError ? <ErrorNote error={save.error} /> : null}
    </form>
  );
}

function Health({ channel }: { channel: Channel }) {
  const h = channel.health;
  return (
    <p className="hint" data-testid={`health-${channel.channel}`}>
      {h.lastDeliveredAt ? `Last delivered ${dateTime(h.lastDeliveredAt)}.` : "Nothing delivered yet."}
      {h.lastError && h.lastErrorAt ? ` Last problem: ${h.lastError} (${dateTime(h.lastErrorAt)}).` : ""}
      {channel.minPrice !== "0" ? ` Only for ${formatUsdc(channel.minPrice)} and up.` : ""}
    </p>
  );
}
