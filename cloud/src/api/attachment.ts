/**
 * Content-Disposition for a download whose name comes from the field (device and
 * point names may hold quotes, semicolons, newlines, Chinese): RFC 6266 with an
 * ASCII fallback of only [A-Za-z0-9._-] for old clients, and the exact name in
 * `filename*` (RFC 8187 UTF-8 percent-encoding), which current browsers prefer.
 */
export function attachment(filename: string): string {
  const ascii = filename.replace(/[^A-Za-z0-9._-]/g, '_');
  // encodeURIComponent leaves ' ( ) * unescaped; RFC 8187's attr-char does not allow them.
  const exact = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}
