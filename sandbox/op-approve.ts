/**
 * Signs in and consents at the sandbox OP by driving its real HTTP pages, as a person with a
 * browser would: the device-code pages, the login form and the consent form, with cookies and
 * redirects. Used by the tests and by the demo (which approves a device code after a few seconds),
 * so nothing reaches into oidc-provider's internals.
 */

export interface ApproveOptions {
  /** The login typed into the sign-in form. An address (with `@`) becomes the account's `email` claim. */
  login?: string;
  password?: string;
  /** Decline instead of approving: the device-confirmation page's Abort, or the consent page's Cancel. */
  deny?: boolean;
  fetch?: typeof fetch;
}

/** Where the last redirect left the OP: the client's redirect URI with the authorization response. */
export interface AuthorizationOutcome {
  /** The redirect URI the OP sent the browser to (with code, state, iss or error). */
  redirectedTo: string;
  /** The loopback listener's answer when it was called, as a browser would. */
  callback?: { status: number; body: string };
}

/** The sandbox OP's test account: any login is accepted; this one is an address, so it has an `email` claim. */
export const SANDBOX_ACCOUNT = { login: "ops@sandbox.test", password: "sandbox", email: "ops@sandbox.test" };

/**
 * Approves (or denies) a device code at the OP's verification page.
 * @see RFC 8628 section 3.3 (user interaction)
 */
export async function approveDeviceCode(
  verificationUri: string,
  userCode: string,
  options: ApproveOptions = {},
): Promise<void> {
  const agent = new PageAgent(new URL(verificationUri).origin, options.fetch ?? fetch);
  let page = await agent.open(verificationUri);
  for (let step = 0; step < 12; step++) {
    if (page.kind === "left") throw new Error(`the OP redirected away from itself to ${page.url}`);
    const html = page.html;
    if (/<title>Sign-in Success<\/title>/.test(html)) return;
    if (/<title>oops! something went wrong<\/title>/.test(html) || /class="red"/.test(html)) {
      if (options.deny && /interrupted|aborted/i.test(html)) return;
      throw new Error(`the OP showed an error page: ${textOf(html)}`);
    }
    const form = firstForm(html);
    if (!form) throw new Error(`the OP showed a page without a form: ${textOf(html)}`);
    if (html.includes('id="op.deviceInputForm"')) {
      page = await agent.submit(page.url, form, { ...form.fields, user_code: userCode });
    } else if (html.includes('id="op.deviceConfirmForm"')) {
      const { confirm: _confirm, ...fields } = form.fields;
      page = await agent.submit(page.url, form, options.deny ? { ...fields, abort: "yes" } : form.fields);
      if (options.deny) return;
    } else {
      page = await interact(agent, page.url, html, form, options);
    }
  }
  throw new Error("the OP's pages did not finish the device approval");
}

/**
 * Opens an authorization URL, signs in and consents (or cancels), and follows the OP's redirect to
 * the client's redirect URI - calling the loopback listener as a browser would.
 * @see RFC 6749 section 4.1.1
 */
export async function approveAuthorization(
  authorizationUrl: string,
  options: ApproveOptions & { callListener?: boolean } = {},
): Promise<AuthorizationOutcome> {
  const fetchImpl = options.fetch ?? fetch;
  const agent = new PageAgent(new URL(authorizationUrl).origin, fetchImpl);
  let page = await agent.open(authorizationUrl);
  for (let step = 0; step < 12; step++) {
    if (page.kind === "left") {
      const outcome: AuthorizationOutcome = { redirectedTo: page.url };
      if (options.callListener !== false) {
        const response = await fetchImpl(page.url, { redirect: "manual" });
        outcome.callback = { status: response.status, body: await response.text() };
      }
      return outcome;
    }
    const form = firstForm(page.html);
    if (!form) throw new Error(`the OP showed a page without a form: ${textOf(page.html)}`);
    page = await interact(agent, page.url, page.html, form, options);
  }
  throw new Error("the OP's pages did not finish the authorization");
}

/** One login, consent or auto-submitting (form_post) page. */
async function interact(
  agent: PageAgent,
  pageUrl: string,
  html: string,
  form: HtmlForm,
  options: ApproveOptions,
): Promise<Page> {
  const prompt = form.fields.prompt;
  if (prompt === "login") {
    if (options.deny) return agent.open(new URL(abortHref(html), pageUrl).href);
    return agent.submit(pageUrl, form, {
      ...form.fields,
      login: options.login ?? SANDBOX_ACCOUNT.login,
      password: options.password ?? SANDBOX_ACCOUNT.password,
    });
  }
  if (prompt === "consent") {
    if (options.deny) return agent.open(new URL(abortHref(html), pageUrl).href);
    return agent.submit(pageUrl, form, form.fields);
  }
  // The OP's auto-submitting form (a browser's script would post it).
  return agent.submit(pageUrl, form, form.fields);
}

type Page = { kind: "page"; url: string; html: string } | { kind: "left"; url: string };

interface HtmlForm {
  action: string;
  method: string;
  fields: Record<string, string>;
}

/** A minimal browser: a cookie jar for one origin, manual redirects, form posts. */
class PageAgent {
  private readonly cookies = new Map<string, string>();
  constructor(
    private readonly origin: string,
    private readonly fetchImpl: typeof fetch,
  ) {}

  open(url: string): Promise<Page> {
    return this.follow(url, { method: "GET" });
  }

  submit(pageUrl: string, form: HtmlForm, fields: Record<string, string>): Promise<Page> {
    const target = new URL(form.action || pageUrl, pageUrl).href;
    if (form.method === "get") {
      const url = new URL(target);
      for (const [key, value] of Object.entries(fields)) url.searchParams.set(key, value);
      return this.follow(url.href, { method: "GET" });
    }
    return this.follow(target, {
      method: "POST",
      body: new URLSearchParams(fields).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
  }

  private async follow(
    url: string,
    init: { method: string; body?: string; headers?: Record<string, string> },
  ) {
    let current = url;
    let request = init;
    for (let hop = 0; hop < 20; hop++) {
      if (new URL(current).origin !== this.origin) return { kind: "left", url: current } as const;
      const response = await this.fetchImpl(current, {
        method: request.method,
        redirect: "manual",
        headers: { ...request.headers, ...(this.cookies.size > 0 && { cookie: this.cookieHeader() }) },
        ...(request.body !== undefined && { body: request.body }),
      });
      this.storeCookies(response.headers.getSetCookie());
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        current = new URL(location, current).href;
        request = { method: "GET" };
        continue;
      }
      return { kind: "page", url: current, html: await response.text() } as const;
    }
    throw new Error("too many redirects at the OP");
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  // Paths are ignored: the sandbox's cookies have distinct names, and one flow runs at a time.
  private storeCookies(headers: string[]): void {
    for (const header of headers) {
      const [pair = "", ...attributes] = header.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const expired = attributes.some((attribute) => {
        const [key = "", value = ""] = attribute.trim().split("=");
        if (key.toLowerCase() === "max-age") return Number(value) <= 0;
        if (key.toLowerCase() === "expires") return Date.parse(value) <= Date.now();
        return false;
      });
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1).trim());
    }
  }
}

function firstForm(html: string): HtmlForm | undefined {
  const match = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!match) return undefined;
  const attributes = match[1] ?? "";
  const fields: Record<string, string> = {};
  for (const input of (match[2] ?? "").matchAll(/<input\b([^>]*)>/gi)) {
    const name = attributeOf(input[1] ?? "", "name");
    const value = attributeOf(input[1] ?? "", "value");
    if (name !== undefined && value !== undefined) fields[name] = value;
  }
  return {
    action: decodeEntities(attributeOf(attributes, "action") ?? ""),
    method: (attributeOf(attributes, "method") ?? "get").toLowerCase(),
    fields,
  };
}

function abortHref(html: string): string {
  const match = /<a href="([^"]*\/abort)"/.exec(html);
  if (!match?.[1]) throw new Error("the OP's page has no cancel link");
  return decodeEntities(match[1]);
}

function attributeOf(attributes: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}="([^"]*)"`, "i").exec(attributes);
  return match?.[1] === undefined ? undefined : decodeEntities(match[1]);
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function textOf(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/gi, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 300);
}
