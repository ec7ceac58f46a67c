// Client routes (history URLs). The Worker knows the same list (worker/web.ts)
// and answers 404 for anything else. Screens a visitor lands on first (landing,
// profile, sign-in) are in the initial bundle; the rest load on demand.
import { lazy, type ReactNode, Suspense } from "react";
import { Redirect, Route, Switch, useLocation } from "wouter";
import { useSession } from "./auth/session";
import { Loading } from "./components/ui";
import { Landing } from "./screens/Landing";
import { NotFound } from "./screens/NotFound";
import { Profile } from "./screens/Profile";
import { SignedIn, SignIn } from "./screens/SignIn";

const load = {
  onboarding: () => import("./screens/Onboarding"),
  inbox: () => import("./screens/Inbox"),
  message: () => import("./screens/Message"),
  outbox: () => import("./screens/Outbox"),
  money: () => import("./screens/Money"),
  settings: () => import("./screens/Settings"),
};
const Onboarding = lazy(load.onboarding);
const Inbox = lazy(load.inbox);
const Message = lazy(load.message);
const Outbox = lazy(load.outbox);
const Money = lazy(load.money);
const Settings = lazy(load.settings);

/** Fetch the landing screen's code alongside the session refresh, not after it. */
export function preloadCurrentScreen(path: string) {
  const [, first, second] = path.split("/");
  const key = first === "inbox" && second ? "message" : first;
  if (key in load) load[key as keyof typeof load]();
}

/** Signed-in screens: a visitor is sent to sign in and brought back. */
function Private({ children }: { children: ReactNode }) {
  const session = useSession();
  const [location] = useLocation();
  if (session.status === "loading") return <Loading />;
  if (session.status === "signed-out") return <Redirect to={`/signin?next=${encodeURIComponent(location)}`} replace />;
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}

export function Routes() {
  return (
    <Switch>
      <Route path="/" component={Landing} />
      <Route path="/signin" component={SignIn} />
      <Route path="/signed-in" component={SignedIn} />
      <Route path={/^\/@(?<handle>[A-Za-z0-9_]{1,64})$/}>{(p) => <Profile handle={p.handle as string} />}</Route>
      <Route path="/onboarding">
        <Private>
          <Onboarding />
        </Private>
      </Route>
      <Route path="/inbox">
        <Private>
          <Inbox />
        </Private>
      </Route>
      <Route path={/^\/inbox\/(?<id>0x[0-9a-fA-F]{64})$/}>
        {(p) => (
          <Private>
            <Message messageId={p.id as string} />
          </Private>
        )}
      </Route>
      <Route path="/outbox">
        <Private>
          <Outbox />
        </Private>
      </Route>
      <Route path="/money">
        <Private>
          <Money />
        </Private>
      </Route>
      <Route path="/settings">
        <Private>
          <Settings />
        </Private>
      </Route>
      <Route>
        <NotFound />
      </Route>
    </Switch>
  );
}
