// A browser-like HTTP client for the debtor page: keeps cookies, posts forms,
// reads the CSRF token out of the page it was given.
export class PageClient {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly base: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (!value || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** The last page's HTML. */
  html = '';
  status = 0;
  location: string | null = null;

  async get(path: string): Promise<this> {
    const res = await fetch(path.startsWith('http') ? path : `${this.base}${path}`, {
      headers: { cookie: this.cookieHeader() },
      redirect: 'manual',
    });
    this.keep(res);
    this.status = res.status;
    this.location = res.headers.get('location');
    this.html = await res.text();
    return this;
  }

  async post(path: string, form: Record<string, string>, opts: { csrf?: boolean } = {}): Promise<this> {
    const body = new URLSearchParams({ ...(opts.csrf === false ? {} : { csrf: this.csrf() }), ...form });
    const res = await fetch(path.startsWith('http') ? path : `${this.base}${path}`, {
      method: 'POST',
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      body,
      redirect: 'manual',
    });
    this.keep(res);
    this.status = res.status;
    this.location = res.headers.get('location');
    this.html = await res.text();
    // Follow a redirect back to this site, as a browser would.
    if (res.status === 303 && this.location && this.location.startsWith('/')) await this.get(this.location);
    return this;
  }

  csrf(): string {
    const m = /name="csrf" value="([^"]+)"/.exec(this.html);
    if (!m) throw new Error(`no CSRF token on the page (status ${this.status}): ${this.html.slice(0, 300)}`);
    return m[1]!;
  }

  copyCookiesFrom(other: PageClient): void {
    for (const [k, v] of other.cookies) this.cookies.set(k, v);
  }
}
