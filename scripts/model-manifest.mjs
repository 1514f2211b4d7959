#!/usr/bin/env node
/**
 * Writes `public/models/<model>/manifest.json` for every bundled model folder: the size and SHA-256
 * of each file the worker may download (config, tokenizer, ONNX graph, …), plus a `version` hash
 * over all of them. Run by `npm run build` before `astro build`, so the manifest always describes the
 * files that ship. The worker (src/lib/model/integrity.ts) checks every download against it and
 * evicts Cache Storage entries written for other bytes (a bad download, or the previous deploy).
 *
 *   node scripts/model-manifest.mjs            # write the manifests
 *   node scripts/model-manifest.mjs --check    # exit 1 if a committed manifest is out of date
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

const MANIFEST = 'manifest.json';
/** Files in the model folders that transformers.js never requests. */
const SKIP = new Set([MANIFEST, 'README.md', 'heldout-sample.txt']);

const root = resolve(process.argv.find((a) => !a.startsWith('-') && a !== process.argv[0] && a !== process.argv[1]) ?? 'public/models');
const check = process.argv.includes('--check');

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
}

/** The manifest of one model folder (paths relative to it, with forward slashes, sorted). */
export function buildManifest(modelDir, model) {
  const files = listFiles(modelDir)
    .map((p) => relative(modelDir, p).split(sep).join('/'))
    .filter((p) => !SKIP.has(p))
    .map((path) => {
      const data = readFileSync(join(modelDir, path));
      return { path, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    });
  const version = createHash('sha256')
    .update(files.map((f) => `${f.path}\u0000${f.bytes}\u0000${f.sha256}\n`).join(''))
    .digest('hex')
    .slice(0, 16);
  return { model, version, files };
}

let stale = 0;
let written = 0;
for (const model of existsSync(root) ? readdirSync(root).sort() : []) {
  const dir = join(root, model);
  if (!statSync(dir).isDirectory() || !existsSync(join(dir, 'config.json'))) continue;
  const text = `${JSON.stringify(buildManifest(dir, model), null, 2)}\n`;
  const target = join(dir, MANIFEST);
  const current = existsSync(target) ? readFileSync(target, 'utf8') : null;
  if (current === text) continue;
  if (check) {
    console.error(`model manifest: ${relative(process.cwd(), target)} is out of date (run node scripts/model-manifest.mjs)`);
    stale++;
  } else {
    writeFileSync(target, text);
    written++;
  }
}
if (check && stale) process.exit(1);
if (!check) console.log(`model manifest: ${written} written`);
