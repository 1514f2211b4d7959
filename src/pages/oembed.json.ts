import type { APIRoute } from 'astro';

export const prerender = false;

// Placeholder answer until the embed work lands: proves the on-demand route works.
export const GET: APIRoute = ({ url }) => new Response(JSON.stringify({ version: '1.0', type: 'rich', url: url.searchParams.get('url') }), { headers: { 'content-type': 'application/json' } });
