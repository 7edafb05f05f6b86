/** Hides the user-info part (`user:password@`) of a URL so it can go into an error message. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1***@');
}
