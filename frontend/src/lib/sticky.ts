// Form edits that outlive a sign-in round trip: when a session ends while someone
// is editing (signed out elsewhere, refresh expired), the app sends them to sign in
// and back, which remounts the screen. What they typed waits in this tab's
// sessionStorage, per user, until it is saved or discarded.
import { useCallback, useState } from "react";
import { useSession } from "../auth/session";

export function useStickyState<T extends object>(
  name: string,
  initial: T,
): { value: T; set: (patch: Partial<T>) => void; clear: () => void; discard: () => void; restored: boolean } {
  const session = useSession();
  const key = `pi:form:${name}:${session.user?.id ?? "anonymous"}`;
  const [restored, setRestored] = useState(() => sessionStorage.getItem(key) !== null);
  const [value, setValue] = useState<T>(() => {
    const saved = sessionStorage.getItem(key);
    return saved ? { ...initial, ...(JSON.parse(saved) as Partial<T>) } : initial;
  });
  const set = useCallback(
    (patch: Partial<T>) =>
      setValue((v) => {
        const next = { ...v, ...patch };
        sessionStorage.setItem(key, JSON.stringify(next));
        return next;
      }),
    [key],
  );
  /** After a save: the edits are the saved state now. */
  const clear = useCallback(() => {
    sessionStorage.removeItem(key);
    setRestored(false);
  }, [key]);
  /** Back to what was saved. */
  const discard = () => {
    clear();
    setValue(initial);
  };
  return { value, set, clear, discard, restored };
}
