/**
 * A second local origin for embed tests: a tiny static server (node:http) that
 * serves host pages registered by the tests, standing in for a course page on
 * another site. Port: E2E_HOST_PORT (default 4442).
 */
import http from 'node:http';

export const HOST_PORT = Number(process.env.E2E_HOST_PORT ?? 4442);
export const HOST_ORIGIN = `http://127.0.0.1:${HOST_PORT}`;

const pages = new Map<string, string>();

export function hostPage(path: string, html: string): string {
  pages.set(path, html);
  return `${HOST_ORIGIN}${path}`;
}

let server: http.Server | null = null;

export async function startHost(): Promise<void> {
  if (server) return;
  server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', HOST_ORIGIN).pathname;
    const html = pages.get(path);
    if (html === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(HOST_PORT, '127.0.0.1', () => resolve());
  });
}

export async function stopHost(): Promise<void> {
  if (!server) return;
  await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = null;
}

export const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;
