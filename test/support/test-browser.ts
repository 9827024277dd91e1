/**
 * A test client that acts as a person's browser over plain HTTP: it keeps
 * cookies (tough-cookie, RFC 6265: paths, expiry, SameSite ignored as a
 * top-level navigation would), follows redirects one by one, and submits the
 * forms of the pages it lands on (node-html-parser), the way a person
 * clicking through the sign-in pages does — no mocks, no shortcuts into the
 * provider.
 *
 * A navigation can stop before a redirect it should not follow (the web UI's
 * callback, which nothing serves yet): it then returns that URL.
 */
import { parse, type HTMLElement } from "node-html-parser";
import { CookieJar } from "tough-cookie";

export interface Page {
  /** The URL of the page, or of the redirect the navigation stopped at. */
  url: string;
  status: number;
  text: string;
  /** True when the navigation stopped at a redirect (see `stopAt`). */
  stopped: boolean;
  headers: Headers;
}

export interface NavigateOptions {
  method?: "GET" | "POST";
  /** An urlencoded form body (POST). */
  form?: Record<string, string>;
  /** Do not follow a redirect to a URL for which this is true; return it instead. */
  stopAt?: (url: URL) => boolean;
  /** Most redirects followed; default 20. */
  maxRedirects?: number;
}

export interface SubmitOptions extends Omit<NavigateOptions, "method" | "form"> {
  /** The form's id; default the first form with a method of post. */
  formId?: string;
  /** Fields the person fills in (added to the form's hidden fields). */
  fields?: Record<string, string>;
  /** A submit button's name and value, as a click on it sends them. */
  button?: { name: string; value: string };
}

export class TestBrowser {
  readonly jar = new CookieJar();
  /** Every URL requested, in order (for asserting the redirect chain). */
  readonly history: string[] = [];

  /** Requests `url` and follows redirects (303/302 become GET, as browsers do). */
  async navigate(url: string | URL, options: NavigateOptions = {}): Promise<Page> {
    let current = new URL(url);
    let method = options.method ?? "GET";
    let body: string | undefined = options.form ? new URLSearchParams(options.form).toString() : undefined;
    for (let hop = 0; ; hop++) {
      if (hop > (options.maxRedirects ?? 20)) throw new Error(`too many redirects, last ${current}`);
      this.history.push(`${method} ${current}`);
      const cookie = await this.jar.getCookieString(current.href);
      const headers: Record<string, string> = { accept: "text/html" };
      if (cookie) headers.cookie = cookie;
      if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
      const response = await fetch(current, { method, headers, body, redirect: "manual" });
      for (const line of response.headers.getSetCookie()) await this.jar.setCookie(line, current.href, { ignoreError: true });
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        const next = new URL(location, current);
        if (options.stopAt?.(next)) return { url: next.href, status: response.status, text: "", stopped: true, headers: response.headers };
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
        }
        current = next;
        continue;
      }
      return { url: current.href, status: response.status, text: await response.text(), stopped: false, headers: response.headers };
    }
  }

  /** Submits a form of `page` with its hidden fields plus `fields`, as a click on its submit button would. */
  submit(page: Page, options: SubmitOptions = {}): Promise<Page> {
    const form = findForm(page, options.formId);
    const method = (form.getAttribute("method") ?? "get").toUpperCase();
    if (method !== "POST") throw new Error(`the form on ${page.url} uses ${method}; only post forms are submitted`);
    const values: Record<string, string> = {};
    for (const input of form.querySelectorAll("input")) {
      const name = input.getAttribute("name");
      if (name && input.getAttribute("type") === "hidden") values[name] = input.getAttribute("value") ?? "";
    }
    Object.assign(values, options.fields ?? {});
    if (options.button) values[options.button.name] = options.button.value;
    const action = new URL(form.getAttribute("action") ?? page.url, page.url);
    return this.navigate(action, { ...options, method: "POST", form: values });
  }
}

/** The forms of a page, for assertions on what a person sees. */
export function formsOf(page: Page): HTMLElement[] {
  return parse(page.text).querySelectorAll("form");
}

function findForm(page: Page, id?: string): HTMLElement {
  const forms = formsOf(page);
  const form = id ? forms.find((f) => f.getAttribute("id") === id) : forms.find((f) => (f.getAttribute("method") ?? "").toLowerCase() === "post");
  if (!form) throw new Error(`no ${id ? `form "${id}"` : "post form"} on ${page.url} (status ${page.status}):\n${page.text.slice(0, 500)}`);
  return form;
}

/** The visible text of a page, whitespace collapsed. */
export function textOf(page: Page): string {
  return parse(page.text).querySelector("body")?.structuredText.replace(/\s+/g, " ").trim() ?? "";
}
