import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Router } from "wouter";
import { restore } from "./auth/session";
import { Shell } from "./components/Shell";
import { preloadCurrentScreen, Routes } from "./routes";
import "./style.css";

// The OAuth callback redirects to `/#/signed-in?code=…`; the app's page for it is /signed-in.
if (location.hash.startsWith("#/signed-in")) history.replaceState(null, "", location.hash.slice(1));

// networkMode "always": offline is an error the screen explains ("can't be reached,
// nothing was lost"), not a request silently paused behind a spinner.
const queryClient = new QueryClient({
  defaultOptions: {
    mutations: { networkMode: "always" },
    queries: {
      networkMode: "always",
      staleTime: 10_000,
      retry: (n, err) => n < 1 && !(err && "status" in err && (err as { status: number }).status >= 400),
      refetchOnWindowFocus: true,
    },
  },
});

// Start the cookie refresh before React renders: the session is usually known by first paint.
if (location.pathname !== "/signed-in") restore();
preloadCurrentScreen(location.pathname);

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <Router>
        <Shell>
          <Routes />
        </Shell>
      </Router>
    </QueryClientProvider>
  </StrictMode>,
);
