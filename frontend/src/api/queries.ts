// Server state: query keys and fetchers in one place, shared by every screen.
import { infiniteQueryOptions, queryOptions, useQuery } from "@tanstack/react-query";
import { useSession } from "../auth/session";
import { api, call } from "./client";

const PAGE = 20;
const nextCursor = (last: { nextCursor: string | null }) => last.nextCursor ?? undefined;

export const meQuery = queryOptions({
  queryKey: ["me"],
  queryFn: () => call(api.GET("/v1/me")),
});

// New mail has no push channel yet: refetch on a visit after 5 s and every 15 s while open.
export const inboxQuery = infiniteQueryOptions({
  queryKey: ["inbox"],
  staleTime: 5_000,
  refetchInterval: 15_000,
  queryFn: ({ pageParam }) => call(api.GET("/v1/inbox", { params: { query: { cursor: pageParam, limit: PAGE } } })),
  initialPageParam: undefined as string | undefined,
  getNextPageParam: nextCursor,
});

export const outboxQuery = infiniteQueryOptions({
  queryKey: ["outbox"],
  queryFn: ({ pageParam }) => call(api.GET("/v1/outbox", { params: { query: { cursor: pageParam, limit: PAGE } } })),
  initialPageParam: undefined as string | undefined,
  getNextPageParam: nextCursor,
});

export const ledgerQuery = infiniteQueryOptions({
  queryKey: ["ledger"],
  queryFn: ({ pageParam }) =>
    call(api.GET("/v1/payments/ledger", { params: { query: { cursor: pageParam, limit: 50 } } })),
  initialPageParam: undefined as string | undefined,
  getNextPageParam: nextCursor,
});

export const providersQuery = queryOptions({
  queryKey: ["providers"],
  queryFn: () => call(api.GET("/v1/auth/providers")),
  staleTime: Number.POSITIVE_INFINITY,
});

/** A recipient's public profile; signed in, with the caller's own quote. */
export function useRecipient(selector: string) {
  const session = useSession();
  return useQuery({
    queryKey: ["recipient", selector.toLowerCase(), session.user?.id ?? null],
    queryFn: () => call(api.GET("/v1/recipients/{selector}", { params: { path: { selector } } })),
    enabled: session.status !== "loading",
    retry: (n, err) => n < 2 && !(err && "status" in err && (err as { status: number }).status === 404),
  });
}

export function useMe() {
  const session = useSession();
  return useQuery({ ...meQuery, enabled: session.status === "signed-in" });
}
