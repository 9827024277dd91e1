/** What every page uses: the signed-in session, what its roles allow, and the transfer service's client. */
import { createContext, useContext } from "react";
import type { TransferClient } from "./api/transfer-client.js";
import type { Capabilities } from "./auth/capabilities.js";
import type { Session } from "./auth/oidc.js";

export interface AppContextValue {
  session: Session;
  capabilities: Capabilities;
  client: TransferClient;
  /** The current access token, for the plain HTTP routes (the upload of POST /import). */
  accessToken(): Promise<string | undefined>;
}

export const AppContext = createContext<AppContextValue | undefined>(undefined);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useApp outside a signed-in AppContext");
  return value;
}
