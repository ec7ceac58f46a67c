import { useEffect } from "react";
import { Link } from "wouter";

export function NotFound({ title = "Page not found", children }: { title?: string; children?: React.ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Paid Inbox`;
  }, [title]);
  return (
    <div className="narrow not-found">
      <h1>{title}</h1>
      {children ?? <p>There's nothing at this address. Check the link, or start from the home page.</p>}
      <p>
        <Link href="/">Go to the home page</Link>
      </p>
    </div>
  );
}
