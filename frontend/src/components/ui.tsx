// Small shared building blocks: states (loading, empty, error), labelled fields, money.
import { type ReactNode, useId } from "react";
import { describeError, errorCode } from "../api/errors";
import { formatUsdc } from "../lib/money";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state empty">
      <p className="state-title">{title}</p>
      {children}
    </div>
  );
}

/** An error in words, with its code for support; `retry` offers the obvious next step. */
export function ErrorNote({ error, retry }: { error: unknown; retry?: () => void }) {
  const code = errorCode(error);
  return (
    <div className="note error" role="alert">
      <p>{describeError(error)}</p>
      {code ? <p className="code">Error code: {code}</p> : null}
      {retry ? (
        <button type="button" className="secondary" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Note({ kind = "info", children }: { kind?: "info" | "success" | "warn"; children: ReactNode }) {
  return (
    <div className={`note ${kind}`} role="status">
      {children}
    </div>
  );
}

export function Usdc({ value, sign }: { value: string | bigint; sign?: boolean }) {
  return <span className="money">{formatUsdc(value, { sign })}</span>;
}

type FieldProps = {
  label: string;
  hint?: ReactNode;
  children: (props: { id: string; "aria-describedby"?: string }) => ReactNode;
};

/** A visible label tied to its control, and a hint tied by aria-describedby. */
export function Field({ label, hint, children }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-describedby": hint ? hintId : undefined })}
      {hint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children}
    </header>
  );
}

/** Said above a form whose unsaved edits came back (after signing in again, or a reload). */
export function Unsaved({ onDiscard }: { onDiscard: () => void }) {
  return (
    <div className="note info unsaved" role="status">
      <p>
        These are your unsaved changes from before.{" "}
        <button type="button" className="link" onClick={onDiscard}>
          Discard them
        </button>
      </p>
    </div>
  );
}
