// Chain mode, as the server reports it: the vault (GET /v1/payments/vault), or
// null when the app runs the simulated ledger.
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";

export function useVault() {
  return useQuery({
    queryKey: ["vault"],
    staleTime: Number.POSITIVE_INFINITY,
    queryFn: async () => {
      const { data, response } = await api.GET("/v1/payments/vault");
      return response.ok && data ? data : null;
    },
  });
}
