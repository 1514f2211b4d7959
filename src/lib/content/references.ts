import references from '../../../content/references.json';

/** One entry of content/references.json. */
export interface Reference {
  authors: string;
  title: string;
  venue: string;
  year: number;
  url?: string;
}

export const referenceTable: Readonly<Record<string, Reference>> = references;

/** Look a key up; throws at build time for an unknown key so no page ships a dangling reference. */
export function getReference(key: string): Reference {
  const ref = referenceTable[key];
  if (!ref) throw new Error(`Unknown reference key "${key}": add it to content/references.json.`);
  return ref;
}
