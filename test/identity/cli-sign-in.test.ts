/**
 * The command line's sign-in (what `dx login` will use, from
 * services/shared/oidc-client) against the running development provider:
 * Authorization Code + PKCE through a loopback redirect on a port the system
 * picks, and the device authorization grant; refresh for either service, and
 * revocation. The person's part is played by a test browser.
 */
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_IDS, RESOURCES } from "../../services/identity/dev-clients.js";
import { SignInRequiredError, TokenSet, signInWithBrowser, signInWithDevice, type DeviceSignInPrompt } from "../../services/shared/oidc-client/index.js";
import { TestBrowser, textOf, type Page } from "../support/test-browser.js";
import { recordSecret } from "../support/run-secrets.js";
import { cliSignIn, recordTokenSet, startTestIdentity, submitLogin, type TestIdentity } from "./identity-harness.js";

let identity: TestIdentity;
beforeAll(async () => {
  identity = await startTestIdentity();
});
afterAll(() => identity?.close());

const resources = [RESOURCES.transfer, RESOURCES.records];

async function token(tokens: TokenSet, resource?: string): Promise<string> {
  return recordSecret("token", await tokens.accessToken(resource));
}

describe("signing in through the browser (loopback redirect)", () => {
  it("opens the sign-in page, comes back to 127.0.0.1 on the port it listens on, and yields tokens for both services", async () => {
    const { tokens, opened, landed } = await cliSignIn(identity.issuer, "importer");
    expect(opened.searchParams.get("code_challenge_method")).toBe("S256");
    expect(opened.searchParams.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(opened.searchParams.get("state")).toBeTruthy();
    expect(opened.searchParams.get("nonce")).toBeTruthy();
    expect(landed.status).toBe(200);
    expect(textOf(landed)).toContain("You are signed in as importer");
    expect(tokens.subject).toBe("importer");

    expect(decodeJwt(await token(tokens))).toMatchObject({ sub: "importer", aud: "dataexchange-transfer", roles: ["importer", "pii"], client_id: CLIENT_IDS.cli });
    const firstRefresh = tokens.refreshToken;
    expect(decodeJwt(await token(tokens, RESOURCES.records))).toMatchObject({ sub: "importer", aud: "dataexchange-records", roles: ["importer", "pii"] });
    expect(tokens.refreshToken).not.toBe(firstRefresh); // rotated
    recordTokenSet(tokens);
    // Held while valid: asking again does not refresh.
    const held = tokens.refreshToken;
    await token(tokens, RESOURCES.records);
    expect(tokens.refreshToken).toBe(held);
  });

  it("answers a callback with another state 400 and keeps waiting for the real one", async () => {
    let forged: Response | undefined;
    const { tokens } = await cliSignIn(identity.issuer, "exporter", {
      before: async (url) => {
        const callback = new URL(url.searchParams.get("redirect_uri")!);
        callback.searchParams.set("code", "forged-code");
        callback.searchParams.set("state", "not-this-sign-in");
        forged = await fetch(callback);
      },
    });
    expect(forged!.status).toBe(400);
    expect(await forged!.text()).toContain("does not belong to the sign-in");
    expect(tokens.subject).toBe("exporter");
  });

  it("asks a person already signed in in the browser to confirm, instead of finishing unseen (another program could start a sign-in with the CLI's client id)", async () => {
    const browser = new TestBrowser();
    await cliSignIn(identity.issuer, "admin", { browser });
    let confirm: Page | undefined;
    const second = recordTokenSet(
      await signInWithBrowser({
        issuer: identity.issuer,
        clientId: CLIENT_IDS.cli,
        resources,
        openBrowser: async (url) => {
          confirm = await browser.navigate(url);
          await browser.submit(confirm, { formId: "confirm" });
        },
      }),
    );
    expect(textOf(confirm!)).toContain("Continue as admin? dx command line asks to sign in with your account");
    expect(second.subject).toBe("admin");
  });

  it("fails with the provider's error when the person cancels, and stops listening", async () => {
    let redirect = "";
    const signIn = signInWithBrowser({
      issuer: identity.issuer,
      clientId: CLIENT_IDS.cli,
      resources,
      openBrowser: async (url) => {
        redirect = url.searchParams.get("redirect_uri")!;
        const browser = new TestBrowser();
        await browser.submit(await browser.navigate(url), { formId: "cancel" });
      },
    });
    await expect(signIn).rejects.toThrow(/access_denied: the person cancelled the sign-in/);
    await expect(fetch(redirect)).rejects.toThrow();
  });

  it("gives up after its time limit", async () => {
    await expect(signInWithBrowser({ issuer: identity.issuer, clientId: CLIENT_IDS.cli, timeoutMs: 300, openBrowser: () => undefined })).rejects.toThrow(/not completed within/);
  });

  it("revokes its refresh token on sign-out, after which a refresh says to sign in again", async () => {
    const { tokens } = await cliSignIn(identity.issuer, "admin");
    const kept = tokens.refreshToken!;
    await tokens.revoke();
    const again = await TokenSet.fromRefreshToken({ issuer: identity.issuer, clientId: CLIENT_IDS.cli, refreshToken: kept, resource: RESOURCES.transfer });
    await expect(again.accessToken()).rejects.toBeInstanceOf(SignInRequiredError);
  });
});

describe("signing in with the device authorization grant", () => {
  /** Opens the link with the code filled in; the provider answers with a form that posts itself (a browser runs its script). */
  async function openCodeLink(browser: TestBrowser, prompt: DeviceSignInPrompt): Promise<Page> {
    const autoPost = await browser.navigate(prompt.verificationUriComplete!);
    return browser.submit(autoPost);
  }

  async function confirmOnAnotherDevice(prompt: DeviceSignInPrompt, username: string): Promise<Page> {
    const browser = new TestBrowser();
    const confirm = await openCodeLink(browser, prompt);
    expect(textOf(confirm)).toContain(prompt.userCode);
    const login = await browser.submit(confirm, { formId: "op.deviceConfirmForm" });
    return submitLogin(browser, login, username);
  }

  it("shows a code and an address; once the person signs in there, the command line gets tokens", async () => {
    let prompt: DeviceSignInPrompt | undefined;
    let done: Promise<Page> | undefined;
    const tokens = recordTokenSet(
      await signInWithDevice({
        issuer: identity.issuer,
        clientId: CLIENT_IDS.cli,
        resources,
        onPrompt: (p) => {
          prompt = p;
          done = confirmOnAnotherDevice(p, "auditor");
        },
      }),
    );
    expect(prompt!.userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(prompt!.verificationUri).toBe(`${identity.issuer}/device`);
    expect(textOf(await done!)).toContain("is signed in");
    expect(tokens.subject).toBe("auditor");
    expect(decodeJwt(await token(tokens))).toMatchObject({ sub: "auditor", aud: "dataexchange-transfer", roles: ["auditor", "pii"] });
  });

  it("refuses a wrong code on the entry page, and ends with a refusal when the person aborts", async () => {
    const browser = new TestBrowser();
    const entry = await browser.navigate(`${identity.issuer}/device`);
    const wrong = await browser.submit(entry, { formId: "op.deviceInputForm", fields: { user_code: "BCDF-GHJK" } });
    expect(textOf(wrong)).toContain("That code is not valid");

    const signIn = signInWithDevice({
      issuer: identity.issuer,
      clientId: CLIENT_IDS.cli,
      resources,
      onPrompt: async (p) => {
        const other = new TestBrowser();
        const confirm = await openCodeLink(other, p);
        await other.submit(confirm, { formId: "op.deviceConfirmForm", button: { name: "abort", value: "yes" } });
      },
    });
    await expect(signIn).rejects.toThrow(/refused at the provider/);
  });
});
