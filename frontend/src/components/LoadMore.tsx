// Infinite scroll by cursor: loads the next page when the sentinel scrolls into
// view, and is also a plain button for keyboards and screen readers.
import { useEffect, useRef } from "react";

export function LoadMore({ hasNext, loading, onLoad }: { hasNext: boolean; loading: boolean; onLoad: () => void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || !hasNext) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loading) onLoad();
    });
    io.observe(el);
    return () => io.disconnect();
  }, [hasNext, loading, onLoad]);
  if (!hasNext) return null;
  return (
    <button ref={ref} type="button" className="secondary load-more" onClick={onLoad} disabled={loading}>
      {loading ? "Loading…" : "Load more"}
    </button>
  );
}
